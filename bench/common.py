"""What the bench scripts share: a free loopback port, a process's CPU seconds, a process tree's.

The scripts are run as `python3 bench/NAME.py`, so this directory is first on `sys.path` and `from common import ...`
finds this file.
"""

import os
import socket

TICKS = os.sysconf("SC_CLK_TCK")


def free_port(kind=socket.SOCK_STREAM):
    """A port that nothing on 127.0.0.1 holds now (TCP unless `kind` is `socket.SOCK_DGRAM`)."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stat(pid):
    """The fields of /proc/PID/stat after the command name (which may hold spaces): [0] state, [1] ppid, ..."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def cpu_seconds(pid):
    """User + system CPU seconds of a live process, all its threads (/proc/PID/stat utime + stime)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / TICKS


def descendants(pid):
    """`pid` and every live process under it."""
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                children.setdefault(int(_stat(name)[1]), []).append(int(name))
            except (OSError, IndexError):
                pass
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def tree_cpu_seconds(pid):
    """User + system CPU seconds of `pid` and its live descendants, as they are now (a process that has exited
    counts only in its parent's `wait4`, not here: for long-lived trees such as a server and its workers)."""
    total = 0.0
    for member in descendants(pid):
        try:
            total += cpu_seconds(member)
        except OSError:
            pass
    return total
