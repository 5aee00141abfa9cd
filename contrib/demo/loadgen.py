#!/usr/bin/env python3
"""loadgen.py - steady HTTP load on a local listener, counted per version.

  python3 loadgen.py [--target HOST:PORT] [--path /] [--rate 20]
                     [--keep-alive | --no-keep-alive] [--timeout 2]
                     [--max-seconds 600] [--parent-pid PID]
                     [--out FILE] [--log FILE]

Sends GET PATH to http://TARGET (default: $SANDBOX_PROD_LISTENER, the
sandbox's production listener) at a fixed rate, one request after the
other (a request slower than the period delays the next one; the ticks
missed are counted, never made up in a burst).  Each answer is counted
per version - the X-App-Version header, else the first word of the body
- and per status; a request that got no HTTP answer (refused, reset,
timed out) counts under status "error" and version "-".

It stops on SIGTERM or SIGINT, after --max-seconds, or when --parent-pid
is gone, and then writes one JSON document (to --out, written whole
under a temporary name then renamed, else to stdout):

  {"target", "path", "rate", "keep_alive", "started", "ended", "seconds",
   "requests", "failed", "missed_ticks",
   "by_status": {"200": n, "500": n, "error": n},
   "by_version": {"v1": n, ...},
   "by_version_status": {"v1": {"200": n}, ...},
   "errors": {"ConnectionRefusedError": n, ...},
   "first_seen": {"v1": epoch, ...}, "last_seen": {"v1": epoch, ...}}

"failed" counts the answers that were not 2xx plus the errors.  --log
FILE also writes one line per request: "EPOCH STATUS VERSION" (epoch
seconds with milliseconds), for timelines.

Only 127.0.0.1 (or localhost) is accepted as the target: this is a tool
for the local sandbox.  Exit 0 after writing the summary, 2 on bad
arguments.  Python 3 standard library only.
"""

import argparse
import http.client
import json
import os
import signal
import sys
import time

LOCAL = ("127.0.0.1", "localhost")


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def parse_target(text):
    """(host, port) of HOST:PORT, or a ValueError saying what is wrong."""
    if text.startswith("http://"):
        text = text[len("http://"):].split("/", 1)[0]
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("target '%s' is not HOST:PORT" % text)
    if host not in LOCAL:
        raise ValueError("target '%s' is not on 127.0.0.1: loadgen only "
                         "loads the local sandbox" % text)
    return "127.0.0.1", int(port)


class Counts:
    def __init__(self, args, host, port):
        self.doc = {
            "target": "%s:%d" % (host, port), "path": args.path,
            "rate": args.rate, "keep_alive": args.keep_alive,
            "started": time.time(), "ended": None, "seconds": 0.0,
            "requests": 0, "failed": 0, "missed_ticks": 0,
            "by_status": {}, "by_version": {}, "by_version_status": {},
            "errors": {}, "first_seen": {}, "last_seen": {}}
        self.t0 = time.monotonic()

    def add(self, status, version, error=None):
        d = self.doc
        now = time.time()
        status = str(status)
        d["requests"] += 1
        if status == "error" or not status.startswith("2"):
            d["failed"] += 1
        d["by_status"][status] = d["by_status"].get(status, 0) + 1
        d["by_version"][version] = d["by_version"].get(version, 0) + 1
        vs = d["by_version_status"].setdefault(version, {})
        vs[status] = vs.get(status, 0) + 1
        if error:
            d["errors"][error] = d["errors"].get(error, 0) + 1
        d["first_seen"].setdefault(version, round(now, 3))
        d["last_seen"][version] = round(now, 3)
        return now

    def finish(self):
        self.doc["ended"] = time.time()
        self.doc["seconds"] = round(time.monotonic() - self.t0, 3)
        return self.doc


def write_summary(doc, out):
    text = json.dumps(doc, indent=1, sort_keys=True) + "\n"
    if not out:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    tmp = "%s.tmp.%d" % (out, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, out)


class Client:
    """One GET at a time, on a kept-alive connection or a fresh one each."""

    def __init__(self, host, port, path, keep_alive, timeout):
        self.host, self.port, self.path = host, port, path
        self.keep_alive, self.timeout = keep_alive, timeout
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def get(self):
        """(status, version, error name or None)."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port,
                                                   timeout=self.timeout)
        headers = {"Connection": "keep-alive" if self.keep_alive
                   else "close"}
        try:
            self.conn.request("GET", self.path, headers=headers)
            r = self.conn.getresponse()
            body = r.read(4096)
            version = r.getheader("X-App-Version")
            if not version:
                words = body.decode("utf-8", "replace").split()
                version = words[0] if words else "-"
            if not self.keep_alive or r.will_close:
                self.close()
            return r.status, version, None
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return "error", "-", type(e).__name__


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="loadgen.py",
        description="steady HTTP load on a local listener, counted per "
                    "version and status")
    p.add_argument("--target", default=os.environ.get("SANDBOX_PROD_LISTENER"),
                   help="HOST:PORT on 127.0.0.1 (default: "
                        "$SANDBOX_PROD_LISTENER)")
    p.add_argument("--path", default="/")
    p.add_argument("--rate", type=float, default=20.0,
                   help="requests per second (default 20)")
    ka = p.add_mutually_exclusive_group()
    ka.add_argument("--keep-alive", dest="keep_alive", action="store_true",
                    default=True, help="reuse one connection (default)")
    ka.add_argument("--no-keep-alive", dest="keep_alive",
                    action="store_false", help="one connection per request")
    p.add_argument("--timeout", type=float, default=2.0,
                   help="seconds per request (default 2)")
    p.add_argument("--max-seconds", type=float, default=600.0,
                   help="stop after this long (default 600)")
    p.add_argument("--parent-pid", type=int, default=0,
                   help="stop when this process is gone")
    p.add_argument("--out", help="write the JSON summary here")
    p.add_argument("--log", help="one line per request: EPOCH STATUS VERSION")
    a = p.parse_args(argv)
    if not a.target:
        p.error("no --target and no SANDBOX_PROD_LISTENER")
    try:
        host, port = parse_target(a.target)
    except ValueError as e:
        p.error(str(e))
    if not a.path.startswith("/"):
        p.error("--path '%s' does not start with /" % a.path)
    if not 0 < a.rate <= 1000:
        p.error("--rate %g is not in (0, 1000]" % a.rate)
    if not 0 < a.max_seconds <= 86400:
        p.error("--max-seconds %g is not in (0, 86400]" % a.max_seconds)
    if not 0 < a.timeout <= 60:
        p.error("--timeout %g is not in (0, 60]" % a.timeout)

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append("SIGTERM"))
    signal.signal(signal.SIGINT, lambda *_: stop.append("SIGINT"))
    counts = Counts(a, host, port)
    client = Client(host, port, a.path, a.keep_alive, a.timeout)
    log = open(a.log, "w", buffering=1) if a.log else None
    period = 1.0 / a.rate
    deadline = time.monotonic() + a.max_seconds
    next_tick = time.monotonic()
    try:
        while not stop:
            now = time.monotonic()
            if now >= deadline:
                break
            if a.parent_pid and not alive(a.parent_pid):
                break
            if now < next_tick:
                time.sleep(min(next_tick - now, 0.2))
                continue
            late = int((now - next_tick) / period)
            if late:
                counts.doc["missed_ticks"] += late
                next_tick += late * period
            next_tick += period
            status, version, error = client.get()
            when = counts.add(status, version, error)
            if log:
                log.write("%.3f %s %s\n" % (when, status, version))
    finally:
        client.close()
        if log:
            log.close()
        write_summary(counts.finish(), a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
