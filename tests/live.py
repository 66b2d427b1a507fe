"""The application served over real HTTP on a thread of its own, for schemathesis and browser tests."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn

from api.app import create_app
from tests.conftest import settings_for

__all__ = ("LiveServer",)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """The application served by uvicorn on a thread of its own."""

    def __init__(self, database_url: str) -> None:
        self.port = _free_port()
        config = uvicorn.Config(
            create_app(settings_for(database_url)), host="127.0.0.1", port=self.port, log_config=None, lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("live server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
