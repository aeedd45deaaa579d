"""Run a command with its stderr on a pseudo-terminal, as a person at a terminal would see it."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Callable

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_with_stderr_on_terminal(command: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr without its ANSI escapes) of ``command``; stderr is a 120x40 terminal."""
    main_fd, child_fd = pty.openpty()
    fcntl.ioctl(child_fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=child_fd, text=True)
    os.close(child_fd)
    chunks = []
    while True:
        try:
            chunk = os.read(main_fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    stdout = process.stdout.read()
    process.wait(timeout=30)
    os.close(main_fd)
    return process.returncode, stdout, ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))


def interrupt_when(process: subprocess.Popen, ready: Callable[[], bool]) -> tuple[str, str]:
    """Press Ctrl-C (SIGINT) in ``process`` once ``ready()`` holds (30 s at most); its stdout and stderr."""
    deadline = time.monotonic() + 30
    while not ready() and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    return process.communicate(timeout=30)
