"""python3 -m awssim.guard --parent-pid P --max-lifetime S -- CMD ARGS...

Runs CMD (the docker registry) and stops it when the process that started
the sandbox is gone, when the lifetime is over, or when the guard itself is
stopped; the child also gets SIGTERM from the kernel if the guard dies
without cleaning up (PR_SET_PDEATHSIG), so nothing outlives the sandbox."""

import argparse
import signal
import subprocess
import sys
import time

from .common import alive, die_with_parent


def main(argv=None):
    p = argparse.ArgumentParser(prog='awssim.guard')
    p.add_argument('--parent-pid', type=int, default=0)
    p.add_argument('--max-lifetime', type=float, default=1800)
    p.add_argument('cmd', nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    cmd = a.cmd[1:] if a.cmd[:1] == ['--'] else a.cmd
    if not cmd:
        p.error('no command')
    child = subprocess.Popen(cmd, preexec_fn=die_with_parent)
    stop = []
    signal.signal(signal.SIGTERM, lambda s, f: stop.append(s))
    signal.signal(signal.SIGINT, lambda s, f: stop.append(s))
    deadline = time.monotonic() + a.max_lifetime
    while child.poll() is None:
        if stop or time.monotonic() > deadline or \
                (a.parent_pid and not alive(a.parent_pid)):
            child.terminate()
            try:
                child.wait(3)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            break
        time.sleep(0.2)
    return child.returncode if child.returncode and child.returncode > 0 else 0


if __name__ == '__main__':
    sys.exit(main())
