"""Pages of the customer archive."""
