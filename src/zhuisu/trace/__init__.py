"""The trace engine: the lineage graph derived from events; backward and forward trace, chain synthesis and
recall impact as walks over it."""
