"""One build at a time per index folder, whoever starts it: an API worker, another worker, `cuabot ingest`.

The lock is a file in the index folder itself (`.build.lock`), so every process and every host that shares the
folder sees it. Taking it never waits: a second build is refused at once with a French message.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

# A library rather than fcntl by hand: filelock takes a native lock (flock on POSIX, which Linux NFS clients
# carry to the server, so hosts sharing the folder exclude each other; msvcrt on Windows), falls back to a marker
# file where the filesystem has no flock, and the system drops a native lock when its process dies, so a killed
# build never leaves the index locked.
from filelock import FileLock, Timeout

LOCK_FILE = ".build.lock"
BUSY_ELSEWHERE = "Une indexation est déjà en cours (lancée par un autre processus) : réessayez quand elle sera finie."


class IndexBusy(RuntimeError):
    """Another process (or another build of this one) holds the index folder's build lock."""

    def __init__(self) -> None:
        super().__init__(BUSY_ELSEWHERE)


class IndexLock:
    """The build lock of one index folder; re-entrant for its holder (the staff route takes it before answering,
    the build it starts takes it again in its thread)."""

    def __init__(self, index_dir: Path) -> None:
        self.path = index_dir / LOCK_FILE
        # Not thread-local: the request thread takes it, the build thread releases it
        self._lock = FileLock(self.path, thread_local=False)

    def acquire(self) -> None:
        """Take the lock now or raise IndexBusy."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._lock.acquire(blocking=False)
        except Timeout as exc:
            raise IndexBusy() from exc

    def release(self) -> None:
        self._lock.release()

    def __enter__(self) -> IndexLock:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()
