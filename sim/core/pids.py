"""Whether a process still lives: files named after their writer's PID are left alone
while it does, and cleared when it is gone (run directories, the matrix cache)."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """Does process ``pid`` exist (on this machine)? Another user's process counts."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
