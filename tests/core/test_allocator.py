"""The package sets Polars' allocator before Polars is loaded, and a deployment's own setting wins.

Polars puts its own defaults first and appends what it finds in the environment; jemalloc
takes the last value of an option.
"""

import os
import subprocess
import sys

import powercis

PROBE = ("import os, powercis, polars; "
         "print(os.environ['_RJEM_MALLOC_CONF']); print(polars.Series([1, 2, 3]).sum())")


def run(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)


def base_env() -> dict:
    return {k: v for k, v in os.environ.items() if k != "_RJEM_MALLOC_CONF"}


def test_the_default_is_set_and_jemalloc_accepts_it():
    done = run(base_env())
    assert done.returncode == 0, done.stderr
    setting, total = done.stdout.split()
    assert setting.endswith("," + powercis.POLARS_ALLOCATOR) and total == "6"
    # jemalloc names every option it does not understand on stderr
    assert "jemalloc" not in done.stderr


def test_the_deployments_own_setting_is_kept_and_read_by_jemalloc():
    done = run({**base_env(), "_RJEM_MALLOC_CONF": "no_such_option:1"})
    setting, total = done.stdout.split()
    assert setting.endswith(",no_such_option:1") and powercis.POLARS_ALLOCATOR not in setting and total == "6"
    assert "<jemalloc>: Invalid conf pair: no_such_option:1" in done.stderr
