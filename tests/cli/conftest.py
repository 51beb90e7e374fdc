"""Fixtures for the command-line tests: run ``powercis`` in a subprocess, tamper with the audit trail as a DBA."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.db import connection


@pytest.fixture
def cli_env(tmp_path):
    """Environment for a ``powercis`` subprocess with its own var dir and SQLite database under ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERCIS_") and k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        POWERCIS_VAR_DIR=str(tmp_path / "var"),
        POWERCIS_DATABASE_URL=f"sqlite:///{tmp_path / 'var' / 'powercis.sqlite3'}",
    )
    return env


@pytest.fixture
def run_cli(cli_env, tmp_path):
    """``run_cli("audit", "verify")`` → the finished ``powercis audit verify`` process (output captured)."""

    def run(*args: str, timeout: float = 300, **env) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "powercis.cli", *args], cwd=tmp_path, env={**cli_env, **env},
            capture_output=True, text=True, timeout=timeout,
        )

    return run


#: What a DBA would do to get past the append-only triggers (migration 0002).  DDL is
#: transactional on both back ends, so the test's rollback restores the triggers.
DISABLE_TRIGGERS = {
    "sqlite": ["DROP TRIGGER core_auditrecord_no_update", "DROP TRIGGER core_auditrecord_no_delete"],
    "postgresql": ["ALTER TABLE core_auditrecord DISABLE TRIGGER core_auditrecord_no_change"],
}


@pytest.fixture
def raw_sql(db):
    """``raw_sql("DELETE FROM core_auditrecord WHERE seq = %s", [7])`` with the append-only triggers out of the way."""
    with connection.cursor() as cursor:
        for statement in DISABLE_TRIGGERS[connection.vendor]:
            cursor.execute(statement)

    def execute(sql: str, params=()) -> int:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    return execute
