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
