"""Bulk import and export of archive records (CSV and XLSX), all or nothing.

``spec``        what an entity looks like in a file; apps register theirs (``<app>/bulk.py``)
``cells``       parsers for what people type in Excel
``readers``     CSV (UTF-8 / GBK detection) and XLSX into numbered rows
``validation``  the whole-file check: cells, orgs and scope, duplicate keys, references, rules
``writer``      set-based writes: PostgreSQL COPY, SQLite bulk_create, ids reserved up front
``services``    validate an upload, commit a batch (one transaction, one audit record), export
``files``       templates, error reports and exports as CSV or XLSX

docs/decisions/0008-bulk-import.md explains the choices.
"""
