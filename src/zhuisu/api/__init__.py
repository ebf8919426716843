"""HTTP edges: EPCIS REST binding, platform API, resolver."""
