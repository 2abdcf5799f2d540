#!/usr/bin/env python3
"""Runs a command with its stderr on a pseudo-terminal (stdin and stdout stay the caller's pipes),
copying what it writes to the terminal onto our own stderr. Exits with the command's code.
Used to test what ssm-proxy does when stderr is a terminal, as it is under ssh."""
import os, pty, select, subprocess, sys

master, slave = pty.openpty()
child = subprocess.Popen(sys.argv[1:], stderr=slave)
os.close(slave)
out = sys.stderr.buffer
while True:
    ready, _, _ = select.select([master], [], [], 0.1)
    if ready:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b''
        if not data:
            break
        out.write(data)
        out.flush()
    elif child.poll() is not None:
        break
code = child.wait()
sys.exit(code if code >= 0 else 128 - code)
