"""Server processes on loopback, for the benchmarks and the tests: a free port, a process started there and
waited for until it answers, then stopped; and a throw-away PostgreSQL cluster. The tests import this module; it
imports nothing of theirs."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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


# PostgreSQL: Debian's server binaries (`make postgres`), a cluster in a temporary folder
_INITDB = "/usr/lib/postgresql/*/bin/initdb"
POSTGRES_USER = "postgres"
# The data is thrown away at the end, and a stopped server is not a crashed machine; commits stay synchronous,
# so a stop loses no committed row, as in production
_POSTGRES_FAST = ("fsync = off",)


def _postgres_bin_dir() -> Path | None:
    found = sorted(glob.glob(_INITDB))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _server_user_exists() -> bool:
    try:
        pwd.getpwnam(POSTGRES_USER)
    except KeyError:
        return False
    return shutil.which("runuser") is not None


def _as_server_user() -> list[str]:
    """The command prefix that runs a server binary as a user PostgreSQL accepts (it refuses to run as root)."""
    return ["runuser", "-u", POSTGRES_USER, "--"] if os.geteuid() == 0 else []


def postgres_missing() -> str | None:
    """Why no PostgreSQL server can be started here, or None."""
    if _postgres_bin_dir() is None:
        return "PostgreSQL is not installed (make postgres installs it)"
    if os.geteuid() == 0 and not _server_user_exists():
        return f"running as root without a {POSTGRES_USER!r} user: PostgreSQL refuses to run as root"
    return None


class PostgresServer:
    """One throw-away cluster: `url` names its `postgres` database (no password, loopback only)."""

    def __init__(self, bin_dir: Path, root: Path) -> None:
        self.bin_dir = bin_dir
        self.data = root / "data"
        self.log = root / "server.log"
        self.port = free_port()
        self.url = f"postgresql+psycopg://{POSTGRES_USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*_as_server_user(), str(self.bin_dir / tool), *args], check=True, capture_output=True)

    def create(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", POSTGRES_USER, "--auth=trust", "--no-sync", "-E", "UTF8")
        settings = (
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.data}'",
        )
        with (self.data / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n".join((*settings, *_POSTGRES_FAST)) + "\n")

    def start(self) -> None:
        self._run("pg_ctl", "start", "-w", "-t", "30", "-D", str(self.data), "-l", str(self.log))

    def stop(self) -> None:
        """Stop now, as a crash would (open connections cut, no checkpoint)."""
        self._run("pg_ctl", "stop", "-w", "-m", "immediate", "-D", str(self.data))

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """A started server, stopped and deleted at the end; RuntimeError when none can run here (`postgres_missing`)."""
    missing = postgres_missing()
    bin_dir = _postgres_bin_dir()
    if missing or bin_dir is None:
        raise RuntimeError(missing)
    # Under /tmp itself: the server user may not enter the caller's folders (pytest's are private to root)
    root = Path(tempfile.mkdtemp(prefix="cuabot-postgres-"))
    if os.geteuid() == 0:
        shutil.chown(root, POSTGRES_USER, POSTGRES_USER)
    server = PostgresServer(bin_dir, root)
    try:
        server.create()
        server.start()
        yield server
    finally:
        if server.running():
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
