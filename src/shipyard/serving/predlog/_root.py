"""One process owns a prediction-log root at a time: an exclusive flock on ``root/.lock`` says which."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from shipyard.core.errors import ConflictError

__all__ = ["check_root_free", "take_root_lock"]


def take_root_lock(root: Path) -> int:
    """The root's exclusive flock, as an open descriptor; a ConflictError when another log holds it."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ConflictError(
            f"the prediction log at {root} is open in another process or PredictionLog; close that one first",
            field="root",
        ) from None
    return fd


def check_root_free(root: Path) -> None:
    """Raise ConflictError now if another process holds ``root``'s log (checked again when it starts)."""
    os.close(take_root_lock(root))  # closing the descriptor drops the flock
