"""Atomic publication: a reader (a person, a file sync, a mail job) sees the old file or the new one,
never a half-written one.

The content goes to a temporary file in the destination folder (same file system, so the rename is
atomic), is flushed and fsynced, then renamed over the destination with os.replace; the folder is fsynced
so the rename survives a crash. On any failure the temporary file is removed and the previous report stays.
The lakehouse's recovery marker (lakehouse.py) is written the same way.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

MODE = 0o644  # a report holds no secrets and no PII; mkstemp's 0600 would hide it from the finance team


def publish(path: Path, write: Callable[[BinaryIO], None]) -> Path:
    """Write `path` through `write(file)`, atomically replacing any previous version."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, MODE)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder: Path) -> None:
    """Persist the rename itself (the directory entry), where the platform allows opening a folder."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
