"""Core business operations.  Each public function is one operation: validate, authorise, write in one transaction, audit.

Views, API endpoints, the CLI and batch jobs call these; nothing else writes core data.
"""
