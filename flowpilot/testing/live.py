"""A real daphne server for browser and websocket tests, forked from the test process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from daphne.testing import DaphneProcess
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.db import connections


def _make_application() -> Any:
    from channels.layers import channel_layers
    from channels.routing import get_default_application

    # A layer built in the parent before the fork carries its client prefix: two servers
    # forked from one test process would then pop each other's messages from one Redis list
    # (and drop them, as neither has the other's channels). Each process builds its own.
    channel_layers.backends = {}
    return ASGIStaticFilesHandler(get_default_application())


@dataclass
class LiveServer:
    host: str
    port: int
    process: DaphneProcess

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(timeout=10)


def start_live_server(
    host: str = "127.0.0.1", setup: Callable[[], None] | None = None
) -> LiveServer:
    # The child must not share the parent's database sockets: close them before the fork and
    # let each side reconnect on its own.
    connections.close_all()
    process = DaphneProcess(host, _make_application, setup=setup)
    process.daemon = True
    process.start()
    while not process.ready.wait(timeout=1):
        if not process.is_alive():
            raise RuntimeError("The live daphne server stopped while starting.")
    return LiveServer(host=host, port=process.port.value, process=process)


@dataclass
class AppProcess:
    """A daphne subprocess with its own environment (not a fork: settings are read afresh)."""

    host: str
    port: int
    process: Any
    log_path: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as handle:
            return handle.read()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except Exception:
            self.process.kill()


def free_port(host: str = "127.0.0.1") -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def database_url() -> str:
    """A URL for the database the test process is using right now (the test database)."""
    from urllib.parse import quote

    db = connections["default"].settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = quote(db.get("USER") or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return (
        f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


def start_app_process(env: dict[str, str], host: str = "127.0.0.1") -> AppProcess:
    """Start ``daphne flowpilot.asgi:application`` on a free port against the test database."""
    import os
    import socket
    import subprocess
    import sys
    import tempfile
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    port = free_port(host)
    full_env = {**os.environ, "DATABASE_URL": database_url(), **env}
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - the process writes to it until stop()
        prefix="flowpilot-app-", suffix=".log", delete=False
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", host, "-p", str(port), "flowpilot.asgi:application"],
        cwd=root,
        env=full_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    app = AppProcess(host=host, port=port, process=process, log_path=log.name)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The app process exited while starting:\n{app.log()}")
        try:
            with socket.create_connection((host, port), 0.5):
                return app
        except OSError:
            time.sleep(0.2)
    app.stop()
    raise RuntimeError(f"The app process did not start in time:\n{app.log()}")
