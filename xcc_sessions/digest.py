"""A file's sha256, computed in the background on the CPU time other work leaves idle.

No Polars here: the CLI starts the hash before it imports Polars, while a core is idle.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
from pathlib import Path

from xcc_sessions.errors import XccError

__all__ = ["FileDigest"]


class FileDigest:
    """Start hashing `path` in a thread now; `hexdigest()` waits for the result.

    hashlib releases the GIL on large blocks. The thread runs at the lowest priority (nice 19;
    on Linux a thread has its own), so that it takes the CPU time the sessionizer leaves rather
    than turns with it; the CLI starts it before importing Polars, while the second core is
    idle. At 5M lines (1.5 GB, about 1 CPU s of hashing), started that early it saved about
    0.2 s of wall time; started with the read, it cost the same as after it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._hexdigest = ""
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._read, name="sha256", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        if sys.platform == "linux":  # elsewhere a thread id is no process id to setpriority
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        try:
            with self.path.open("rb") as file:
                self._hexdigest = hashlib.file_digest(file, "sha256").hexdigest()
        except OSError as error:
            self._error = error

    def hexdigest(self) -> str:
        """The sha256 of the whole file, in hex; `XccError` if the file could not be read."""
        self._thread.join()
        if self._error is not None:
            raise XccError(f"cannot read {self.path}: {self._error.strerror}")
        return self._hexdigest
