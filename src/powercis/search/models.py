"""Search index models (see the app's docstring)."""
