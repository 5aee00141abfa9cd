#!/usr/bin/env python3
"""httpd.py - a scripted HTTP(S) capture server for gantry's tests.

Stands in for a service's /healthz, a Slack webhook, the Slack Web API or
a log ingestion endpoint.  Python 3 standard library only.

    httpd.py --port-file FILE [--script FILE] [--cert PEM --key PEM]
             [--parent-pid PID] [--max-lifetime SECONDS]

It listens on 127.0.0.1 on a free port, writes that port to --port-file
once it accepts connections, and stops by itself after --max-lifetime
seconds (default 300) or as soon as --parent-pid is gone.  With --cert
and --key it speaks TLS.

Behaviour comes from a JSON script (--script, or POST /_script):

    {"routes": {"/healthz": [{"status": 503},
                             {"status": 200, "body": {"version": "1.0"}}],
                "/old": [{"status": 302, "headers": {"Location": "/new"}}]},
     "default": {"status": 200, "body": "ok"}}

Each route is a queue of responses for that path (query string ignored):
a request takes the first one, and the last one stays to answer every
later request.  A path without a route gets "default" (200 "ok" unless
the script says otherwise).  A response has "status" (200), "headers"
(an object), "body" (a string, or any other JSON value, sent as JSON)
and "delay_ms" (wait before answering).

Every request except the control endpoints below is captured before it
is answered: GET /_captured returns them as a JSON list of
{"method", "path", "query", "headers", "body"} (header names lowercase).
POST /_reset forgets the captures and restarts the queues.
"""

import argparse
import json
import os
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class State:
    def __init__(self, script):
        self.lock = threading.Lock()
        self.captured = []
        self.load(script)

    def load(self, script):
        with self.lock:
            self.script = script or {}
            self.queues = {path: list(responses) for path, responses
                           in self.script.get("routes", {}).items()}

    def reset(self):
        self.load(self.script)
        with self.lock:
            self.captured = []

    def capture(self, entry):
        with self.lock:
            self.captured.append(entry)

    def captures(self):
        with self.lock:
            return list(self.captured)

    def response_for(self, path):
        with self.lock:
            queue = self.queues.get(path)
            if queue:
                return queue.pop(0) if len(queue) > 1 else queue[0]
            return self.script.get("default", {"status": 200, "body": "ok"})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes: without TCP_NODELAY, Nagle and
    # the client's delayed ACK add ~40 ms to every answer.
    disable_nagle_algorithm = True
    server_version = "gantry-test-httpd"

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("httpd: " + (fmt % args) + "\n")

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send(self, status, body, headers=None):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            headers = dict(headers or {})
            headers.setdefault("Content-Type", "application/json")
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def control(self, path, body):
        state = self.server.state
        if path == "/_captured" and self.command == "GET":
            self.send(200, state.captures())
        elif path == "/_reset" and self.command == "POST":
            state.reset()
            self.send(200, {"ok": True})
        elif path == "/_script" and self.command == "POST":
            state.load(json.loads(body or b"{}"))
            self.send(200, {"ok": True})
        else:
            self.send(404, {"error": "unknown control endpoint " + path})

    def handle_any(self):
        url = urlsplit(self.path)
        body = self.read_body()
        if url.path.startswith("/_"):
            self.control(url.path, body)
            return
        self.server.state.capture({
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
        })
        resp = self.server.state.response_for(url.path)
        delay = resp.get("delay_ms", 0)
        if delay:
            time.sleep(delay / 1000.0)
        try:
            self.send(resp.get("status", 200), resp.get("body", ""),
                      resp.get("headers"))
        except (BrokenPipeError, ConnectionResetError):
            pass    # the client gave up waiting: that was the point

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = False

    def __init__(self, state, tls, verbose):
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = state
        self.tls = tls
        self.verbose = verbose

    def finish_request(self, request, client_address):
        # The TLS handshake happens here, in the request's own thread, so
        # a client that refuses our certificate stalls nobody else.
        if self.tls:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def watchdog(server, deadline, parent):
    while time.monotonic() < deadline:
        if parent:
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                break
            except PermissionError:
                pass
        time.sleep(0.2)
    server.shutdown()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--script")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--parent-pid", type=int, default=0)
    ap.add_argument("--max-lifetime", type=float, default=300)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    script = {}
    if args.script:
        with open(args.script) as f:
            script = json.load(f)
    tls = None
    if args.cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(args.cert, args.key)

    server = Server(State(script), tls, args.verbose)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, args.port_file)

    threading.Thread(target=watchdog, daemon=True,
                     args=(server, time.monotonic() + args.max_lifetime,
                           args.parent_pid)).start()
    server.serve_forever(poll_interval=0.1)
    server.server_close()


if __name__ == "__main__":
    main()
