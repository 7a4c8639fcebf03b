"""A throwaway ``redis-server`` on a free loopback port, for the shared-limit tests and figure 7."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from types import TracebackType

BINARY = "redis-server"
STARTUP_TIMEOUT = 10.0


def available() -> bool:
    """Whether ``redis-server`` is on PATH (Debian's package installs it)."""
    return shutil.which(BINARY) is not None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """``redis-server`` on 127.0.0.1, no persistence; :meth:`stop` and :meth:`start` again.

    Args:
        password: require this password (``requirepass``), else none.
    """

    def __init__(self, password: str | None = None) -> None:
        self.port = free_port()
        self.password = password
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://[:password@]127.0.0.1:PORT/0``."""
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server on :attr:`port` and return once it accepts connections."""
        binary = shutil.which(BINARY)
        if binary is None:
            raise RuntimeError(f"{BINARY} is not on PATH: apt-get install -y redis-server")
        command = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        if self.password:
            command += ["--requirepass", self.password]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{BINARY} exited at once (port {self.port} taken?)")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"{BINARY} did not accept connections within {STARTUP_TIMEOUT:g} s")

    def stop(self) -> None:
        """Stop the server (its data goes with it)."""
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
