"""Where a command may write a file that it replaces whole (fetch's download, generate's file).

Both write beside the output under a temporary name and rename it into place. A rename replaces
whatever is at the name: a symlink would become a file (its target left stale), and a device, a
FIFO or a socket would be destroyed, /dev/null included. So the rename goes to the file a symlink
points to, and anything else that is not a regular file is refused before any work.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from xcc_sessions.errors import XccError

__all__ = ["replaceable_file"]


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
