"""Atomic file writes: a reader sees the old file or the new one, never a torn one.

Every writer goes the same way: a temporary file in the destination's folder (so the
final rename stays on one file system), the data written and ``fsync``-ed, then
``os.replace`` over the destination and an ``fsync`` of the folder. On any failure (disk
full, read-only folder, a parent that is a file, a serialiser that raises) the temporary
file is removed and one :class:`OSError` is raised whose message names the destination
and the cause in one sentence; the destination keeps its former content.
"""
from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import pathlib
import shutil
import tempfile
from collections.abc import Callable, Iterator
from typing import IO, Any

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_torch_save", "atomic_writer",
           "remove_stale_temporaries", "os_error"]

_CAUSES = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission is denied",
    errno.EPERM: "the operation is not permitted",
    errno.ENOTDIR: "a parent of the path is a file, not a folder",
    errno.EISDIR: "the path is a folder",
    errno.EEXIST: "a file stands where a parent folder of the path should be",
}


def os_error(code: int | None, message: str) -> OSError:
    """An OSError of the subclass ``code`` selects (``IsADirectoryError`` for EISDIR, ...) whose text is ``message``
    alone (no ``[Errno N]`` prefix); ``.errno`` is ``code``."""
    error = type(OSError(code, ""))(message) if code else OSError(message)
    error.errno = code
    return error


def _cause(err: BaseException) -> str:
    if isinstance(err, OSError) and err.errno in _CAUSES:
        return _CAUSES[err.errno]
    return f"{type(err).__name__}: {err}"


def _fsync_folder(folder: pathlib.Path) -> None:
    """Make a rename in ``folder`` durable (best effort: some file systems refuse to open folders)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` when the block ends without an error.

    Parameters
    ----------
    path : path-like
        Destination; its folder is created if missing.
    mode : {"wb", "w"}
        Binary or text (UTF-8) mode.

    Yields
    ------
    file object
        Write the whole content to it; it is flushed, fsynced and renamed over ``path``.

    Raises
    ------
    OSError
        If anything fails (the temporary file is removed, ``path`` is left as it was);
        the message names ``path`` and the cause, the original error is chained.
    ValueError
        If ``mode`` is not ``"wb"`` or ``"w"``.
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    dest = pathlib.Path(path)
    tmp: str | None = None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, dest)
        tmp = None
        _fsync_folder(dest.parent)
    except BaseException as err:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if not isinstance(err, Exception):  # KeyboardInterrupt, SystemExit: cleaned up, passed on
            raise
        raise os_error(getattr(err, "errno", None) or errno.EIO, f"could not write {dest}: {_cause(err)}") from err


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> pathlib.Path:
    """Write ``data`` to ``path`` atomically; returns the path. Raises OSError naming the path on failure."""
    with atomic_writer(path, "wb") as fh:
        fh.write(data)
    return pathlib.Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> pathlib.Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path. Raises OSError naming the path on failure."""
    with atomic_writer(path, "w") as fh:
        fh.write(text)
    return pathlib.Path(path)


def atomic_write_json(path: str | os.PathLike, obj: Any, indent: int | None = 2,
                      default: Callable[[Any], Any] | None = str) -> pathlib.Path:
    """Write ``obj`` as JSON (with a final newline) atomically; returns the path.

    ``default`` converts what JSON cannot hold (``str`` by default, ``float`` for tensors
    of one number). ``obj`` is serialised before anything is written, so an object JSON
    cannot hold raises ``TypeError``/``ValueError`` and leaves no file; a failed write
    raises OSError naming the path.
    """
    text = json.dumps(obj, indent=indent, default=default) + "\n"
    return atomic_write_text(path, text)


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> pathlib.Path:
    """``torch.save(obj, path)`` atomically (load it back with ``weights_only=True``); returns the path."""
    import torch

    with atomic_writer(path, "wb") as fh:
        try:
            torch.save(obj, fh)
        except RuntimeError as err:  # torch's zip writer reports a failed write as "unexpected pos ..."
            if _disk_full(pathlib.Path(path).parent):
                raise os_error(errno.ENOSPC, "no space left on the device") from err
            raise
    return pathlib.Path(path)


def _disk_full(folder: pathlib.Path, margin: int = 1 << 20) -> bool:
    """Whether ``folder``'s file system has less than ``margin`` bytes free (checked while the failed file still exists)."""
    try:
        return shutil.disk_usage(folder).free < margin
    except OSError:
        return False


def remove_stale_temporaries(folder: str | os.PathLike, names: tuple[str, ...]) -> list[pathlib.Path]:
    """Remove the temporary files a killed writer of ``folder/<name>`` left behind; returns what was removed.

    Only call this while no other process writes these files (e.g. holding the folder's lock):
    a temporary file of a live writer would be removed too.
    """
    removed = []
    for name in names:
        for path in pathlib.Path(folder).glob(f".{glob.escape(name)}.*.tmp"):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed

