"""Starting and stopping the deployment's long-running processes (code server, webserver, daemon) in tests.

Each service runs in its own session, so stopping it signals exactly the process group this test started
(the service and the processes it spawned: code servers, run workers) and nothing else on the machine.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
VENV_BIN = Path(__file__).resolve().parents[2] / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Service:
    """One subprocess in its own session, with its output in a log file; `stop_all` ends its process group."""

    def __init__(self, name: str, argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, log_dir: Path):
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(list(argv), env=dict(env), cwd=cwd, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return f"--- {self.name} ({self.log_path}) ---\n" + "\n".join(text.splitlines()[-lines:])

    def _signal(self, sig: signal.Signals) -> None:
        try:
            os.killpg(self.process.pid, sig)  # the group this Popen created, by its id
        except ProcessLookupError:
            pass


def stop_all(services: Sequence[Service], grace_s: float = 5.0) -> None:
    """SIGTERM every service's process group at once, SIGKILL what is left after `grace_s`.

    The group is killed even when its leader exited: run workers it spawned may still be in it.
    """
    for service in services:
        service._signal(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for service in services:
        try:
            service.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
    for service in services:
        service._signal(signal.SIGKILL)
        service.process.wait()
        service._log.close()


def venv_command(name: str, *args: str) -> list[str]:
    return [str(VENV_BIN / name), *args]


def wait_for(check: Callable[[], T | None], *, timeout_s: float, what: str, services: Sequence[Service] = (),
             interval_s: float = 0.5) -> T:
    """Poll `check` until it returns something truthy; on timeout fail with the services' last log lines."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        for service in services:
            if service.process.poll() is not None:
                raise AssertionError(f"{service.name} exited with {service.process.returncode} while waiting "
                                     f"for {what}\n{service.log_tail()}")
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # a server still starting answers with errors: keep polling
            last_error = exc
        time.sleep(interval_s)
    tails = "\n".join(s.log_tail() for s in services)
    raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what} (last error: {last_error!r})\n{tails}")
