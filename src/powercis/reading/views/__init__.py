"""Pages of meter reading, one module per area; they read through the selectors and write through the services."""
