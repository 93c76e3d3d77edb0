"""Helper processes of the serving process (a model's worker, the prediction log's sealer): a fresh
interpreter running one function, a socket pair to talk over, and no life beyond its parent's.

Not multiprocessing's spawn, which re-imports the parent's main script (``shipyard serve`` would start
again). The child runs this module, which imports the function's module by name (so what it pickles
names importable classes) and calls ``function(connection, parent_pid, *args)``; the channel uses
multiprocessing's framing, so either side may use ``Connection``.
"""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import threading
import time

__all__ = ["launch", "watch_parent"]

_PARENT_CHECK_S = 0.5


def launch(target: str, *args: str) -> tuple[subprocess.Popen[bytes], socket.socket]:
    """Run ``target`` (``"package.module:function"``) in a child process; returns the process and the
    parent's end of the socket pair."""
    parent_sock, child_sock = socket.socketpair()
    command = [sys.executable, "-m", __name__, target, str(child_sock.fileno()), str(os.getpid()), *args]
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, pass_fds=(child_sock.fileno(),))
    except BaseException:
        parent_sock.close()
        raise
    finally:
        child_sock.close()
    return process, parent_sock


def watch_parent(parent_pid: int) -> bool:
    """In a child: exit as soon as ``parent_pid`` is gone, even if it was killed with SIGKILL (checked
    every half second on a daemon thread). False if it is gone already: the caller returns."""
    if os.getppid() != parent_pid:  # the parent died while this one was starting
        return False
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    return True


def _exit_with_parent(parent_pid: int) -> None:
    while True:
        time.sleep(_PARENT_CHECK_S)
        if os.getppid() != parent_pid:
            os._exit(0)


if __name__ == "__main__":
    from multiprocessing.connection import Connection

    _module, _, _function = sys.argv[1].partition(":")
    _fd, _parent = int(sys.argv[2]), int(sys.argv[3])
    getattr(importlib.import_module(_module), _function)(Connection(_fd), _parent, *sys.argv[4:])
