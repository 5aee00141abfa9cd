#!/usr/bin/env python3
"""pty-run.py COLS OUT PROGRAM [ARG...]: runs PROGRAM on a pseudo-terminal
COLS columns wide (its stdin, stdout and stderr), writes every byte it
printed to OUT, and exits with its exit code (124 after 60 s: killed).

With --render, OUT also gets OUT.screen: what a terminal would show at the
end, one line per row ("\\r" returns to the line's start, ESC[K erases to
its end, "\\n" starts the next row; colour sequences are dropped)."""
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time


def render(data):
    rows, line, col = [], [], 0
    text = re.sub(rb'\x1b\[[0-9;]*m', b'', data).decode('utf-8', 'replace')
    i = 0
    while i < len(text):
        if text.startswith('\x1b[K', i):
            del line[col:]
            i += 3
            continue
        ch = text[i]
        i += 1
        if ch == '\r':
            col = 0
        elif ch == '\n':
            rows.append(''.join(line))
            line, col = [], 0
        else:
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
    if line:
        rows.append(''.join(line))
    return rows


def main():
    args = sys.argv[1:]
    want_render = args and args[0] == '--render'
    if want_render:
        args = args[1:]
    cols, out, argv = int(args[0]), args[1], args[2:]
    pid, fd = pty.fork()
    if pid == 0:
        # The size is set before the program starts: no race with it.
        fcntl.ioctl(1, termios.TIOCSWINSZ,
                    struct.pack('HHHH', 24, cols, 0, 0))
        os.execvp(argv[0], argv)
    data, deadline = b'', time.time() + 60
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
    else:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    with open(out, 'wb') as f:
        f.write(data)
    if want_render:
        with open(out + '.screen', 'w') as f:
            f.write('\n'.join(render(data)) + '\n')
    if time.time() >= deadline:
        sys.exit(124)
    sys.exit(os.waitstatus_to_exitcode(status) & 0xff)


main()
