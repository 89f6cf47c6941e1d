#!/usr/bin/env python3
"""ht-reaper.py LEAKS CMD [ARG...]: runs CMD and names the processes it leaves.

The reaper makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER),
so every process CMD starts, however it was orphaned (a parent killed, a
double fork), stays below it instead of going to init. When CMD has exited
it waits up to two seconds for what is still running below it to end, then
writes one line "PID COMMAND LINE" for each process that did not to LEAKS
(an empty file when there is none), kills those, and exits with CMD's exit
status (128 + N when a signal N killed CMD). SIGINT, SIGTERM and SIGHUP are
passed on to CMD, so a test can interrupt CMD through the reaper's pid.

Only this test's own processes are looked at: the reaper's children, read
from /proc/self/task/*/children, never other processes of the machine.
"""
import ctypes
import glob
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def children():
    """The pids of the reaper's live children (zombies are reaped)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
    pids = set()
    for path in glob.glob("/proc/self/task/*/children"):
        try:
            with open(path) as f:
                pids.update(int(p) for p in f.read().split())
        except OSError:
            pass
    return sorted(pids)


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def main():
    if len(sys.argv) < 3:
        sys.stderr.write("usage: ht-reaper.py LEAKS CMD [ARG...]\n")
        return 64
    leaks, cmd = sys.argv[1], sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.stderr.write("ht-reaper.py: error: prctl: %s\n" % os.strerror(ctypes.get_errno()))
        return 71
    child = os.fork()
    if child == 0:
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            sys.stderr.write("ht-reaper.py: error: '%s': %s\n" % (cmd[0], e.strerror))
        os._exit(127)

    def forward(sig, frame):
        try:
            os.kill(child, sig)
        except ProcessLookupError:
            pass
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)

    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == child:
            break
    code = os.waitstatus_to_exitcode(status)
    if code < 0:
        code = 128 - code

    deadline = time.monotonic() + 2
    left = children()
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = children()
    with open(leaks, "w") as f:
        for pid in left:
            f.write("%d %s\n" % (pid, cmdline(pid)))
    # Kill what is left, and what their ends orphan in turn.
    while left:
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
        left = children()
    return code


sys.exit(main())
