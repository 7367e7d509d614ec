"""One writer per run dir: an advisory lock on ``run_dir/.lock`` holding the writer's PID.

The lock is ``fcntl.flock`` on the file: the kernel releases it when its process ends,
however it ends (SIGKILL included), so the lock of a dead process is taken over by the next
writer without any clean-up; a live holder makes a second writer fail at once with the
holder's PID. Advisory: only lpgeom's writers honour it (and only on file systems with
``flock``; on others the lock is a no-op with a warning).
"""
from __future__ import annotations

import errno
import os
import pathlib
import warnings

from ..utils.files import LinkRefusedError, open_lock, os_error

__all__ = ["RunLock", "RunLockedError", "LOCK_NAME"]

LOCK_NAME = ".lock"


class RunLockedError(RuntimeError):
    """Another live process is writing the run dir."""


class RunLock:
    """Exclusive advisory lock of a run dir, as a context manager.

    Parameters
    ----------
    run_dir : path-like
        The run's folder (created if missing).

    Raises
    ------
    RunLockedError
        On entering, if another process holds the lock (its PID is named).
    OSError
        If the lock file cannot be created (read-only folder, run dir that is a file), or
        is a symbolic link (``lpgeom.utils.LinkRefusedError``: never written through).

    Examples
    --------
    >>> import tempfile
    >>> with RunLock(tempfile.mkdtemp()) as lock:
    ...     lock.held
    True
    """

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.path = pathlib.Path(run_dir) / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> RunLock:
        """Take the lock (at once, or raise :class:`RunLockedError`) and write this process's PID into it."""
        import fcntl

        if self._fd is not None:
            return self
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = open_lock(self.path)  # O_NOFOLLOW: a .lock that is a link is refused, its target untouched
        except LinkRefusedError:
            raise
        except OSError as err:
            if str(self.path) in str(err):  # open_lock's own sentence
                raise
            raise os_error(err.errno, f"could not create the lock file {self.path}: {err.strerror}") from err
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            holder = _read_pid(fd)
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise RunLockedError(f"{self.path.parent} is being written by another process (PID {holder}); "
                                     "wait for it to finish, or use another run dir") from None
            warnings.warn(f"could not lock {self.path} ({err.strerror}); two writers of this run dir "
                          "would not be detected", stacklevel=2)
            return self
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        """Let the lock go (the file stays; its PID is stale from now on and the next writer takes over)."""
        import fcntl

        if self._fd is None:
            return
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def _read_pid(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode(errors="replace").strip()
    except OSError:
        return "unknown"
    return text or "unknown"
