"""Ingest of register reads: the one fast path every delivery of reads goes through.

* ``parse`` — a file (JSON, CSV, Parquet, XLSX; long or wide) as a frame of text columns;
* ``engine`` — resolve meters, quarantine what cannot be accepted, drop what was already
  received, flag what looks wrong on arrival, write set-based in one transaction;
* ``sheets`` — reading sheets (抄表清单) out to the field and back in;
* ``sgsc`` — the real SGSC half-hourly data turned into daily frozen register reads.

``ingest_file``, ``ingest_frame`` and ``ingest_rows`` are complete services: they check
the permission, write the delivery and its audit record; views, the API and the command
line call them and nothing else.
"""

from .engine import IngestResult, ingest_file, ingest_frame, ingest_rows

__all__ = ["IngestResult", "ingest_file", "ingest_frame", "ingest_rows"]
