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
    on Linux a thread has its own), so it fills the gaps the sessionizer leaves (start-up, the
    serial steps between and after the read) instead of taking turns with it: at the same
    priority, started before the read it made the run 0.3 s slower, and after it, the sort,
    the aggregation and the writes waited for it (0.5-0.8 s more at 5M lines).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._hash = hashlib.sha256()
        self._error: OSError | None = None
        self._thread = threading.Thread(target=self._read, name="sha256", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        if sys.platform == "linux":  # elsewhere a thread id is no process id to setpriority
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        try:
            with self.path.open("rb") as file:
                while block := file.read(1 << 20):
                    self._hash.update(block)
        except OSError as error:
            self._error = error

    def hexdigest(self) -> str:
        """The sha256 of the whole file, in hex; `XccError` if the file could not be read."""
        self._thread.join()
        if self._error is not None:
            raise XccError(f"cannot read {self.path}: {self._error.strerror}")
        return self._hash.hexdigest()
