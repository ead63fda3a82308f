"""`deisctl ... watch` as a real process, for the watch tests: its output collected by threads,
with the time each line arrived (to measure how long a failover took), and the etcd members it
is connected to (from /proc)."""

from __future__ import annotations

import os
import queue
import subprocess
import threading
import time

from tests.rig.cli import deisctl_command


class Watcher:
    """`deisctl ... watch` as a real process; stdout lines collected by a thread."""

    def __init__(self, *args: str):
        env = {k: v for k, v in os.environ.items() if not k.startswith("DEISCTL_")}
        self.proc = subprocess.Popen(deisctl_command() + list(args), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.stderr: list[str] = []
        self.stderr_at: list[tuple[float, str]] = []  # (time.monotonic(), line), for the time to detect
        self.line_at: list[float] = []  # when each stdout line arrived
        self._ready = threading.Event()
        threading.Thread(target=self._read_out, daemon=True).start()
        threading.Thread(target=self._read_err, daemon=True).start()

    def _read_out(self):
        for line in self.proc.stdout:
            self.line_at.append(time.monotonic())
            self.lines.put(line.rstrip("\n"))

    def _read_err(self):
        for line in self.proc.stderr:
            self.stderr_at.append((time.monotonic(), line))
            self.stderr.append(line)
            if line.startswith("watching "):
                self._ready.set()

    def wait_ready(self, timeout: float = 15):
        assert self._ready.wait(timeout), "".join(self.stderr)

    def collect(self, n: int, timeout: float = 30) -> list[str]:
        end, got = time.monotonic() + timeout, []
        while len(got) < n:
            try:
                got.append(self.lines.get(timeout=max(end - time.monotonic(), 0.01)))
            except queue.Empty:
                raise AssertionError(f"{len(got)} of {n} lines: {got}; stderr: {''.join(self.stderr)}")
        return got

    def wait(self, timeout: float = 30) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"watch still running {timeout}s later; stderr: {''.join(self.stderr)}") from None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def connected_ports(pid: int) -> set[int]:
    """Remote ports of the process's established TCP connections (from /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):  # gRPC may use IPv4-mapped IPv6 sockets
        with open(name) as table:
            for line in table.readlines()[1:]:
                fields = line.split()
                if fields[9] in inodes and fields[3] == "01":
                    ports.add(int(fields[2].rsplit(":", 1)[1], 16))
    return ports
