"""What a server process has used, read from Linux's ``/proc``: CPU time (user + system, every
thread) and resident memory (now, and the most it ever held)."""

from __future__ import annotations

import os
from dataclasses import dataclass

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class Usage:
    cpu_seconds: float
    rss_bytes: int


def usage(pid: int) -> Usage:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        # The command name (field 2) may hold spaces; the fields after it never do.
        fields = stat.read().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    with open(f"/proc/{pid}/statm", encoding="ascii") as statm:
        resident_pages = int(statm.read().split()[1])
    return Usage(
        cpu_seconds=(utime + stime) / _TICKS_PER_SECOND,
        rss_bytes=resident_pages * _PAGE_BYTES,
    )


def peak_rss_bytes(pid: int) -> int:
    """The most memory the process has held resident since it started (``VmHWM``)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM")
