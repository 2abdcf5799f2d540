"""The fake agent's pseudo-terminal (docs/protocol.md §14.3), without native npm modules.

Usage: python3 shell-pty-helper.py COMMAND [ARG...]
  stdin   bytes typed into the terminal (the agent writes Output payloads here)
  stdout  everything the terminal prints
  fd 3    control lines "COLS ROWS\\n": TIOCSWINSZ on the terminal (a Size payload)
Exits with the command's status once the terminal has nothing more to print. Closing fd 3, or
SIGTERM/SIGHUP, kills the command's whole process group first: nothing is left behind.
"""
import errno
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios


def main():
    command = sys.argv[1:] or ["sh"]
    pid, master = pty.fork()  # setsid + the pty as controlling terminal in the child
    if pid == 0:
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)

    def kill_child(*_):
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        os._exit(143)

    signal.signal(signal.SIGTERM, kill_child)
    signal.signal(signal.SIGHUP, kill_child)

    os.set_blocking(master, False)
    control_buffer = b""
    pending_input = b""
    inputs = [0, 3]
    while True:
        writers = [master] if pending_input else []
        readable, writable, _ = select.select(inputs + [master], writers, [])
        if master in writable:
            try:
                written = os.write(master, pending_input)
                pending_input = pending_input[written:]
            except BlockingIOError:
                pass
            except OSError:
                pending_input = b""
        if 0 in readable:
            data = os.read(0, 65536)
            if data:
                pending_input += data
            else:
                inputs.remove(0)
        if 3 in readable:
            data = os.read(3, 4096)
            if not data:
                kill_child()
            control_buffer += data
            while b"\n" in control_buffer:
                line, control_buffer = control_buffer.split(b"\n", 1)
                cols, rows = (int(part) for part in line.split())
                fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        if master in readable:
            try:
                data = os.read(master, 65536)
            except BlockingIOError:
                continue
            except OSError as error:
                if error.errno != errno.EIO:
                    raise
                data = b""  # Linux: EIO once the command is gone and its output was read
            if not data:
                break
            view = memoryview(data)
            while view:
                view = view[os.write(1, view):]
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)


if __name__ == "__main__":
    main()
