"""REST API under /api/v1/: thin views over the core services and selectors."""
