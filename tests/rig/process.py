"""Stopping the servers the rig starts: by their own PID, politely first."""

from __future__ import annotations

import subprocess
from typing import Optional


def stop_process(proc: Optional[subprocess.Popen], timeout: float = 10) -> bool:
    """SIGTERM, wait up to `timeout`, then SIGKILL. Returns False when it had to be killed."""
    if proc is None or proc.poll() is not None:
        return True
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
        return True
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
        return False
