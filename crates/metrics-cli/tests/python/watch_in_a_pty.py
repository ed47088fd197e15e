"""Drives `agent-metrics status --watch` in a real pseudo-terminal (stdlib only).

Usage: watch_in_a_pty.py BINARY. Runs in the store's directory: waits for the first frame,
records an event with another process, waits for it to be drawn, presses `q`, and prints a
JSON report: whether each step was seen, the exit status, and whether the terminal was
restored (the alternate screen left, raw mode undone).
"""
import json
import os
import pty
import select
import subprocess
import sys
import termios
import time

binary = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execv(binary, [binary, "status", "--watch"])

seen = b""


def read_until(needle, seconds):
    global seen
    deadline = time.monotonic() + seconds
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
    return needle in seen


report = {}
report["first_frame"] = read_until(b"Agent metrics:", 10)
report["raw_mode"] = not (termios.tcgetattr(fd)[3] & termios.ICANON)
before = len(seen)
started = time.monotonic()
subprocess.run([binary, "record", "event", "--agent", "newcomer", "--status", "success"], check=True,
               stdout=subprocess.DEVNULL)
report["redrawn_with_the_write"] = read_until(b"newcomer", 10)
report["redraw_seconds"] = round(time.monotonic() - started, 3)
os.write(fd, b"q")
_, status = os.waitpid(pid, 0)
report["exit_code"] = os.waitstatus_to_exitcode(status)
try:
    while True:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        seen += chunk
except OSError:
    pass
report["entered_alternate_screen"] = b"\x1b[?1049h" in seen
report["left_alternate_screen"] = b"\x1b[?1049l" in seen[before:]
print(json.dumps(report))
