"""python3 -m awssim.taskapp --version V [--broken] [--parent-pid P]
[--max-lifetime S]

One simulated ECS task's program for services behind the simulated load
balancer (traffic.py): an HTTP server on 127.0.0.1 (a free port, printed
on the first line of stdout) that answers

  GET /health   200 "ok" (ELB health checks pass, broken or not)
  anything else 200 "VERSION\\n", or 500 "VERSION broken\\n" when --broken

with the header X-App-Version: VERSION.  It exits when its parent process
(the simulator) or --parent-pid is gone, or --max-lifetime seconds passed.
"""

import argparse
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .common import alive


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "sim-task"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def _answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > 0:
            self.rfile.read(n)
        version = self.server.app_version
        if self.path.split("?", 1)[0] == "/health":
            status, body = 200, "ok\n"
        elif self.server.broken:
            status, body = 500, "%s broken\n" % version
        else:
            status, body = 200, "%s\n" % version
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-App-Version", version)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer


def main(argv=None):
    p = argparse.ArgumentParser(prog="awssim.taskapp")
    p.add_argument("--version", required=True)
    p.add_argument("--broken", action="store_true")
    p.add_argument("--parent-pid", type=int, default=0)
    p.add_argument("--max-lifetime", type=float, default=1800)
    a = p.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.app_version = a.version
    server.broken = a.broken
    parent = os.getppid()
    deadline = time.monotonic() + a.max_lifetime

    def watch():
        while True:
            time.sleep(0.5)
            if not alive(parent) or os.getppid() != parent or \
                    (a.parent_pid and not alive(a.parent_pid)) or \
                    time.monotonic() > deadline:
                server.shutdown()
                return
    threading.Thread(target=watch, daemon=True).start()
    sys.stdout.write("%d\n" % server.server_address[1])
    sys.stdout.flush()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
