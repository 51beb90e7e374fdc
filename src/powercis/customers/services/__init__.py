"""Customer archive services: the only write path for customers, accounts, versions, changes and contracts."""
