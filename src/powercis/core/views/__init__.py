"""Core web pages, one module per concern; thin: they check permissions, call services and render."""
