import io
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command

from powercis.core.management.commands import serve

VENDOR = Path(serve.__file__).resolve().parents[3] / "web" / "static" / "vendor"


def test_options_reach_gunicorn(monkeypatch):
    started = []
    monkeypatch.setattr(serve.Command, "collect_static", lambda self: None)
    monkeypatch.setattr(serve.Command, "warn_unapplied_migrations", lambda self: None)
    monkeypatch.setattr(serve.GunicornServer, "run", lambda self: started.append(self))
    call_command("serve", "--bind", "0.0.0.0", "--port", "9000", "--workers", "3", "--timeout", "120",
                 stdout=io.StringIO())
    cfg = started[0].cfg
    assert (cfg.bind, cfg.workers, cfg.timeout, cfg.accesslog) == (["0.0.0.0:9000"], 3, 120, "-")
    assert serve.default_workers() >= 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, dict(response.headers), response.read()


@pytest.fixture
def server(cli_env, tmp_path):
    """``powercis serve`` running in the background on a free port; yields its base URL and its output file."""
    port = free_port()
    log_path = tmp_path / "serve.log"
    log = open(log_path, "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "powercis.cli", "serve", "--port", str(port), "--workers", "2"],
        cwd=tmp_path, env={**cli_env, "POWERCIS_TLS": "0"}, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                get(base + "/healthz")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"powercis serve did not start:\n{log_path.read_text()}")
                time.sleep(0.5)
        yield base, log_path
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def test_serve_answers_and_serves_the_collected_static_files(server, tmp_path):
    server, log_path = server
    status, _headers, body = get(server + "/healthz")
    assert (status, json.loads(body)) == (200, {"status": "ok"})
    for name in ("htmx/htmx.min.js", "bootstrap/bootstrap.min.css", "echarts/echarts.min.js"):
        status, _headers, body = get(f"{server}/static/vendor/{name}")
        assert status == 200 and body == (VENDOR / name).read_bytes()
    manifest = json.loads((tmp_path / "var" / "static" / "staticfiles.json").read_text())
    hashed = manifest["paths"]["vendor/htmx/htmx.min.js"]
    status, headers, _body = get(f"{server}/static/{hashed}")
    assert status == 200 and "immutable" in headers["Cache-Control"]
    # the access log line is written by the worker after the response; give it a moment
    line = f'"GET /static/{hashed} HTTP/1.1" 200'
    deadline = time.monotonic() + 10
    while line not in log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert line in log_path.read_text()
