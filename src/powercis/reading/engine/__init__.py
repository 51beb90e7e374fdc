"""The month-end engines of meter reading: plan generation, validation before billing, estimation.

Each engine reads its inputs set-based into Polars frames (``frames``), applies
vectorised rule functions, and writes with COPY on PostgreSQL or executemany on SQLite
(``write``).  They are system-level: the services in ``reading.services`` check
permissions, hold the transaction and write the audit records, then call them.

* ``plans.generate_plans`` — a period's reading plans and tasks for every route;
* ``validate.run_validation`` — the checks of metering-audit §2 over whole plans or a
  few tasks, writing the exceptions the reviewers work;
* ``estimate.estimate_reads`` — estimated reads by the documented method.
"""
