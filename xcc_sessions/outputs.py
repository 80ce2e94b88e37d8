"""Where commands write: a file replaced whole (fetch's download, generate's file), and the
directory of sessionize outputs (`DirectoryClaim`).

fetch and generate write beside the output under a temporary name and rename it into place. A
rename replaces whatever is at the name: a symlink would become a file (its target left stale),
and a device, a FIFO or a socket would be destroyed, /dev/null included. So the rename goes to
the file a symlink points to, and anything else that is not a regular file is refused before
any work.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Final

from xcc_sessions.errors import XccError

__all__ = ["DirectoryClaim", "replaceable_file"]


def replaceable_file(output: Path) -> Path:
    """The regular file to replace: `output`, or the file a symlink there points to (which
    need not exist yet). `XccError` for a directory, a device, a FIFO or a socket, left as it
    is."""
    target = Path(os.path.realpath(output))
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    except OSError as error:
        raise XccError(f"cannot write {output}: {error.strerror or error}") from None
    if stat.S_ISDIR(mode):
        raise XccError(f"cannot write {output}: Is a directory")
    if not stat.S_ISREG(mode):
        raise XccError(
            f"cannot write {output}: it is {_kind(mode)}, not a regular file (left as it is)"
        )
    return target


def _kind(mode: int) -> str:
    """What a file that is not a regular file or a directory is, in words."""
    kinds = (
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "a special file")


class DirectoryClaim:
    """A lock on a directory of sessionize outputs while a run writes it (exclusive) or a load
    reads it (shared), taken at once or refused with `XccError`; `release()` or leaving a `with`
    block drops it, as does the system when the process dies.

    Two runs writing one directory removed each other's staged files and could leave outputs of
    two inputs, and a load reading files that a run was replacing could load a mix. The lock is
    on the directory itself (flock), so no lock file is left in it. Windows has no flock, and a
    file system without locks (some NFS mounts) refuses it: there runs are not kept apart.
    """

    def __init__(self, directory: Path, *, shared: bool = False) -> None:
        self._release: Callable[[], None] = _nothing
        if sys.platform == "win32":
            return
        import fcntl

        try:
            descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        except OSError as error:
            raise XccError(f"cannot use {directory}: {error.strerror or error}") from None
        # Closed when released, or when this object is collected without being released.
        self._release = weakref.finalize(self, os.close, descriptor)
        try:
            fcntl.flock(descriptor, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            self.release()
            raise XccError(
                f"{directory} is being written by a sessionize or run; wait for it to finish"
                if shared
                else f"{directory} is in use by another sessionize, run or load; wait for it to "
                "finish, or write to another directory"
            ) from None
        except OSError as error:
            if error.errno not in _NO_LOCKS:
                self.release()
                raise XccError(f"cannot lock {directory}: {error.strerror or error}") from None

    def release(self) -> None:
        """Drop the lock (again: nothing)."""
        self._release()

    def __enter__(self) -> DirectoryClaim:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


_NO_LOCKS: Final = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


def _nothing() -> None:
    """Release no lock: none was taken."""
