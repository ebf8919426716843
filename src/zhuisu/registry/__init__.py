"""The registry (备案): enterprises and natural persons (parties), their locations, products, and the catalogs
of products that must (or are encouraged to) be traced."""
