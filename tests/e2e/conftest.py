"""Browser tests: a real server process on its own database, driven by Playwright in Debian's Chromium.

The server is started the way an operator starts it (``powercis demo --no-serve`` to
migrate and load the demo company, then ``powercis serve``), on a scratch database:
a SQLite file, or — when the suite runs on PostgreSQL — a scratch database created next
to the test database and dropped afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
POWERCIS = str(Path(sys.executable).with_name("powercis"))


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.xdist_group("e2e"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _scratch_database(tmp: Path):
    """A database URL for the server and a function that removes it afterwards."""
    url = os.environ.get("POWERCIS_DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"powercis_e2e_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        base = url.rsplit("/", 1)[0]

        def drop():
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return f"{base}/{name}", drop
    return f"sqlite:///{tmp / 'e2e.sqlite3'}", lambda: None


@pytest.fixture(scope="session")
def live_env(tmp_path_factory):
    """The environment of the live server (its database and var directory), for commands run beside it."""
    tmp = tmp_path_factory.mktemp("e2e")
    database_url, drop = _scratch_database(tmp)
    env = {
        **os.environ,
        "POWERCIS_DATABASE_URL": database_url,
        "POWERCIS_VAR_DIR": str(tmp / "var"),
        "POWERCIS_TLS": "0",
        "POWERCIS_DEBUG": "0",
        "POWERCIS_LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    yield env, tmp
    drop()


def run_beside(live_env, code: str) -> str:
    """Run Python in ``powercis shell`` on the live server's database (data a test needs that no page creates)."""
    env, _tmp = live_env
    done = subprocess.run([POWERCIS, "shell", "-c", code], env=env, check=True, capture_output=True, text=True,
                          timeout=120)
    return done.stdout


@pytest.fixture(scope="session")
def live_url(live_env):
    env, tmp = live_env
    subprocess.run([POWERCIS, "demo", "--no-serve"], env=env, check=True, capture_output=True, timeout=300)
    port = _free_port()
    log = open(tmp / "server.log", "w")
    server = subprocess.Popen([POWERCIS, "serve", "--port", str(port), "--workers", "2"], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                log.close()
                raise RuntimeError("server did not start:\n" + (tmp / "server.log").read_text())
            time.sleep(0.3)
    yield base
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: script/test installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser, live_url):
    """``new_page(viewport=...)`` → a page in a fresh browser context (own cookies) on the live server."""
    contexts = []

    def make(**options):
        context = browser.new_context(base_url=live_url, locale="zh-CN", **options)
        context.set_default_timeout(15000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def log_in(page, username: str, password: str = "Powercis@2026") -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-submit")
    page.wait_for_url("**/")
