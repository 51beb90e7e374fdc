"""Services of meter reading: the only write path for routes, plans, reads, exceptions and collection."""
