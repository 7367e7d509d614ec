"""Every file lpgeom writes goes through this module: atomic, never through a link, with the user's umask.

Atomic: a temporary file in the destination's folder (so the final rename stays on one
file system), the data written and ``fsync``-ed, then ``os.replace`` over the destination
and an ``fsync`` of the folder. On any failure (disk full, read-only folder, a parent that
is a file, a serialiser that raises) the temporary file is removed and one
:class:`OSError` is raised whose message names the destination and the cause in one
sentence; the destination keeps its former content.

Links (one rule for every writer): lpgeom never writes, appends, renames or locks through
a symbolic link. A destination that is a symbolic link (dangling or not) is refused with
an :class:`OSError` (``errno.ELOOP``) naming it, and the link and its target are left
untouched; opens use ``O_NOFOLLOW`` so a link put in place between the check and the open
is refused too. With ``root`` (the folder the user named: a run dir, a results folder),
the destination must lie inside ``root`` and no folder between ``root`` and the
destination may be a symbolic link; ``root`` itself may be one (the user chose it).
Removing a file (:func:`remove_file`) removes a link itself, never its target.

Permissions: files are created with mode ``0o666`` and the process's umask applies, as
for any file a program creates (umask 022 gives 0644, 002 gives 0664); an atomic write
replaces the destination's mode with that one.
"""
from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import pathlib
import re
import shutil
from collections.abc import Callable, Iterator
from typing import IO, Any

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_write_json", "atomic_torch_save", "atomic_writer",
           "remove_stale_temporaries", "os_error", "check_write_target", "make_folder", "open_append", "open_lock",
           "remove_file", "replace_file", "LinkRefusedError"]

_CAUSES = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission is denied",
    errno.EPERM: "the operation is not permitted",
    errno.ENOTDIR: "a parent of the path is a file, not a folder",
    errno.EISDIR: "the path is a folder",
    errno.EEXIST: "a file stands where a parent folder of the path should be",
    errno.ELOOP: "it is a symbolic link, and lpgeom never writes through a link",
}

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_CREATE_MODE = 0o666  # the umask applies


class LinkRefusedError(OSError):
    """A file lpgeom was asked to write is a symbolic link, or lies behind one inside the folder the user named."""


_TEMP_BYTES = 6  # random bytes in a temporary file's name (12 hex digits)


def _link_error(path: pathlib.Path, what: str = "it") -> LinkRefusedError:
    try:
        target = f" (to {os.readlink(path)})"
    except OSError:
        target = ""
    error = LinkRefusedError(f"refusing to write {path}: {what} is a symbolic link{target}, and lpgeom never writes "
                             "through a link (the link and its target are left untouched); remove the link or "
                             "choose another folder")
    error.errno = errno.ELOOP
    return error


def _inside(path: pathlib.Path, root: pathlib.Path) -> tuple[str, ...]:
    """The components of ``path`` below ``root`` (ValueError if ``path`` is not inside ``root``), lexically."""
    absolute = pathlib.Path(os.path.abspath(path))
    base = pathlib.Path(os.path.abspath(root))
    try:
        return absolute.relative_to(base).parts
    except ValueError:
        raise ValueError(f"refusing to write {path}: it lies outside the folder {root} it belongs to") from None


def _refuse_linked_folders(path: pathlib.Path, root: str | os.PathLike | None) -> None:
    """With ``root``: refuse ``path`` outside it, or behind a folder inside it that is a symbolic link."""
    if root is None:
        return
    current = pathlib.Path(root)
    for part in _inside(path, current)[:-1]:
        current = current / part
        if current.is_symlink():
            raise _link_error(path, f"its folder {current}")


def check_write_target(path: str | os.PathLike, root: str | os.PathLike | None = None) -> pathlib.Path:
    """Refuse a destination that is a symbolic link, or (with ``root``) lies outside ``root`` or behind a link in it.

    Parameters
    ----------
    path : path-like
        The file to be written.
    root : path-like, optional
        The folder the user named (may itself be a link); ``path`` must lie inside it.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    LinkRefusedError
        An ``OSError`` (``errno.ELOOP``) naming the link, if ``path`` or a folder between
        ``root`` and ``path`` is a symbolic link.
    ValueError
        If ``path`` lies outside ``root``.
    """
    path = pathlib.Path(path)
    _refuse_linked_folders(path, root)
    if path.is_symlink():
        raise _link_error(path)
    return path


def make_folder(folder: str | os.PathLike, root: str | os.PathLike | None = None) -> pathlib.Path:
    """Create ``folder`` and its missing parents; with ``root``, no folder from ``root`` down may be a link.

    Raises
    ------
    LinkRefusedError
        If a folder between ``root`` and ``folder`` (``folder`` included) is a symbolic link.
    ValueError
        If ``folder`` lies outside ``root``.
    OSError
        If a folder cannot be created.
    """
    folder = pathlib.Path(folder)
    if root is None:
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    current = pathlib.Path(root)
    current.mkdir(parents=True, exist_ok=True)
    for part in _inside(folder, current):
        current = current / part
        if current.is_symlink():
            raise _link_error(current, f"the folder {current}")
        current.mkdir(exist_ok=True)
    return folder


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


def _create_temporary(dest: pathlib.Path) -> tuple[int, str]:
    """A new temporary file beside ``dest`` (``O_EXCL | O_NOFOLLOW``, mode 0o666 less the umask): its fd and path."""
    for _ in range(100):
        tmp = str(dest.parent / f".{dest.name}.{os.urandom(_TEMP_BYTES).hex()}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, _CREATE_MODE), tmp
        except FileExistsError:
            continue
    raise os_error(errno.EEXIST, f"could not create a temporary file beside {dest}")


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "wb", root: str | os.PathLike | None = None
                  ) -> Iterator[IO[Any]]:
    """Open a temporary file that replaces ``path`` when the block ends without an error.

    Parameters
    ----------
    path : path-like
        Destination; its folder is created if missing. A symbolic link there is refused
        (see the module docstring), before anything is written and again just before the rename.
    mode : {"wb", "w"}
        Binary or text (UTF-8) mode.
    root : path-like, optional
        The folder the user named: ``path`` must lie inside it, with no link in between.

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
        make_folder(dest.parent, root)
        check_write_target(dest, root)
        fd, tmp = _create_temporary(dest)
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if mode == "w" else {})) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        check_write_target(dest, root)  # a link put there while the data was written
        os.replace(tmp, dest)
        tmp = None
        _fsync_folder(dest.parent)
    except BaseException as err:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if not isinstance(err, Exception):  # KeyboardInterrupt, SystemExit: cleaned up, passed on
            raise
        refused = tmp is None and isinstance(err, ValueError)  # a destination outside its root: before any write
        if isinstance(err, LinkRefusedError) or refused:
            raise
        raise os_error(getattr(err, "errno", None) or errno.EIO, f"could not write {dest}: {_cause(err)}") from err


def atomic_write_bytes(path: str | os.PathLike, data: bytes, root: str | os.PathLike | None = None) -> pathlib.Path:
    """Write ``data`` to ``path`` atomically; returns the path. Raises OSError naming the path on failure."""
    with atomic_writer(path, "wb", root) as fh:
        fh.write(data)
    return pathlib.Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, root: str | os.PathLike | None = None) -> pathlib.Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; returns the path. Raises OSError naming the path on failure."""
    with atomic_writer(path, "w", root) as fh:
        fh.write(text)
    return pathlib.Path(path)


def atomic_write_json(path: str | os.PathLike, obj: Any, indent: int | None = 2,
                      default: Callable[[Any], Any] | None = str, root: str | os.PathLike | None = None) -> pathlib.Path:
    """Write ``obj`` as JSON (with a final newline) atomically; returns the path.

    ``default`` converts what JSON cannot hold (``str`` by default, ``float`` for tensors
    of one number). ``obj`` is serialised before anything is written, so an object JSON
    cannot hold raises ``TypeError``/``ValueError`` and leaves no file; a failed write
    raises OSError naming the path.
    """
    text = json.dumps(obj, indent=indent, default=default) + "\n"
    return atomic_write_text(path, text, root)


def atomic_torch_save(obj: Any, path: str | os.PathLike, root: str | os.PathLike | None = None) -> pathlib.Path:
    """``torch.save(obj, path)`` atomically (load it back with ``weights_only=True``); returns the path."""
    import torch

    with atomic_writer(path, "wb", root) as fh:
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


def _open_nofollow(path: pathlib.Path, flags: int, root: str | os.PathLike | None, what: str) -> int:
    if root is not None:
        make_folder(path.parent, root)
    check_write_target(path, root)
    try:
        return os.open(path, flags | _NOFOLLOW | _CLOEXEC, _CREATE_MODE)
    except OSError as err:
        if err.errno == errno.ELOOP:  # a link put there after the check
            raise _link_error(path) from None
        raise os_error(err.errno or errno.EIO, f"could not {what} {path}: {err.strerror or _cause(err)}") from err


def open_append(path: str | os.PathLike, root: str | os.PathLike | None = None) -> IO[str]:
    """Open ``path`` for appending UTF-8 text (created if missing), never through a link.

    Raises
    ------
    LinkRefusedError
        If ``path`` (or, with ``root``, a folder between ``root`` and it) is a symbolic link.
    OSError
        If it cannot be opened, naming it and the cause.
    """
    path = pathlib.Path(path)
    fd = _open_nofollow(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, root, "append to")
    return os.fdopen(fd, "a", encoding="utf-8")


def open_lock(path: str | os.PathLike, root: str | os.PathLike | None = None) -> int:
    """Open (create if missing) a lock file for reading and writing, never through a link; returns its fd.

    Raises
    ------
    LinkRefusedError
        If ``path`` (or, with ``root``, a folder between ``root`` and it) is a symbolic link.
    OSError
        If it cannot be created, naming it and the cause.
    """
    return _open_nofollow(pathlib.Path(path), os.O_RDWR | os.O_CREAT, root, "create the lock file")


def remove_file(path: str | os.PathLike, root: str | os.PathLike | None = None) -> bool:
    """Remove ``path`` if it exists (a link itself, never its target); returns whether something was removed.

    Raises
    ------
    LinkRefusedError
        With ``root``, if a folder between ``root`` and ``path`` is a symbolic link.
    IsADirectoryError
        If ``path`` is a folder.
    """
    path = pathlib.Path(path)
    _refuse_linked_folders(path, root)
    if path.is_dir() and not path.is_symlink():
        raise os_error(errno.EISDIR, f"{path} is a folder, not a file lpgeom wrote: remove or rename it")
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def replace_file(source: str | os.PathLike, dest: str | os.PathLike, root: str | os.PathLike | None = None
                 ) -> pathlib.Path:
    """``os.replace(source, dest)``, refusing a source or destination that is a symbolic link.

    Raises
    ------
    LinkRefusedError
        If either is a symbolic link (or lies behind one inside ``root``).
    OSError
        If the rename fails, naming both paths and the cause.
    """
    check_write_target(source, root)
    check_write_target(dest, root)
    try:
        os.replace(source, dest)
    except OSError as err:
        raise os_error(err.errno, f"could not move {source} to {dest}: {_cause(err)}") from err
    return pathlib.Path(dest)


def remove_stale_temporaries(folder: str | os.PathLike, names: tuple[str, ...]) -> list[pathlib.Path]:
    """Remove the temporary files a killed writer of ``folder/<name>`` left behind; returns what was removed.

    Only call this while no other process writes these files (e.g. holding the folder's lock):
    a temporary file of a live writer would be removed too.
    """
    removed = []
    for name in names:
        # exactly the names atomic_writer makes (".<name>.<12 hex digits>.tmp"): a user's ".<name>.backup.tmp" stays
        own = re.compile(rf"\.{re.escape(name)}\.[0-9a-f]{{{2 * _TEMP_BYTES}}}\.tmp")
        for path in pathlib.Path(folder).glob(f".{glob.escape(name)}.*.tmp"):
            if not own.fullmatch(path.name) or path.is_symlink() or not path.is_file():
                continue
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed

