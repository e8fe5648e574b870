"""Server processes on loopback, for the benchmarks and the tests: a free port, a process started there and
waited for until it answers, then stopped. The tests import this module; it imports nothing of theirs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

STOP_WAIT_S = 30


def free_port() -> int:
    """A port of 127.0.0.1 that no one listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with code {process.returncode}")
        try:
            if httpx.get(url, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} not ready after {timeout_s:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the process has not exited after STOP_WAIT_S."""
    process.terminate()
    try:
        process.wait(timeout=STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def served(
    command: list[str],
    port: int,
    env: dict[str, str],
    ready_timeout_s: float = 600,
    ready_path: str = "/api/health",
    **popen: Any,
) -> Iterator[str]:
    """A server process on 127.0.0.1:port, answering 200 on ready_path, stopped on exit; yields its base URL.

    `env` is added to this process's environment; `popen` goes to subprocess.Popen (`cwd`, `preexec_fn`, or
    `stdout` and `stderr` to files of the caller's). By default the server writes to a temporary log whose
    end is printed on stderr when the server does not start or the block fails.
    """
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        output = {"stdout": log, "stderr": subprocess.STDOUT, **popen}
        process = subprocess.Popen(command, env={**os.environ, **env}, **output)
        try:
            wait_ready(url + ready_path, process, ready_timeout_s)
            yield url
        except Exception:
            log.seek(0)
            sys.stderr.write(log.read().decode("utf-8", "replace")[-4000:])
            raise
        finally:
            stop(process)
