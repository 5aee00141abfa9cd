"""The simulated load balancer of services deployed blue/green, linear or
canary: real task processes, two target groups, and a production and a test
listener that route HTTP like the listener rules ECS switches.

When the simulator runs as a server (server.main calls start()), every
RUNNING task of a service whose loadBalancers carry advancedConfiguration
is a process (taskapp.py: answers its version, or 500 when the release is
"broken"), started when the task runs and stopped when it stops.  The
version is the container's APP_VERSION, else the image tag; a task is
broken when its essential container's environment has APP_BROKEN set to
1/true/yes, its image tag has a "bad" or "broken" word (v2-bad,
bad-2, broken), or its image contains a string given to
/_sim/traffic/broken (a release whose tag cannot say so, as in the demo).

Two listeners on 127.0.0.1 (SANDBOX_PROD_LISTENER and
SANDBOX_TEST_LISTENER in the sandbox's env.sh) proxy every request to a
task of the bound service (/_sim/traffic/bind, else the service with
advancedConfiguration whose latest service deployment is the newest):

  production: blue while a deployment runs, green's share per the
      production traffic shift (canary/linear steps: exactly that share,
      requests interleaved deterministically), all green once shifted;
  test: green once TEST_TRAFFIC_SHIFT happened (without a
      testListenerRule it follows production);
  back to blue at once on a rollback; every live task otherwise.

Answers carry X-Sim-Target-Group (the target group ARN) and
X-Sim-Revision (the service revision ARN); no target gives 503, a target
that does not answer 502.  A SCALE_UP waits for the green processes to
answer (ecs.task_ready).  At most MAX_PROCS processes run; tasks beyond
get none and count as ready.

Every process is the simulator's child: it dies with it
(PR_SET_PDEATHSIG), checks its parent and the sandbox's --parent-pid, and
has the simulator's remaining --max-lifetime.
"""

import atexit
import http.client
import os
import queue
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import ecs_strategies as strategies
from .common import die_with_parent, essential_container

TICK = 0.1
MAX_PROCS = 24
STOP_SECONDS = 2.0
KINDS = ("production", "test")
BAD_TAG = re.compile(r"(^|[-_.])(bad|broken)([-_.]|$)")


def release_of(td):
    """(version, broken) of a task definition's essential container."""
    c = essential_container(td)
    env = {e.get("name"): str(e.get("value", ""))
           for e in c.get("environment") or []}
    image = c.get("image") or ""
    last = image.rsplit("/", 1)[-1].split("@", 1)[0]
    tag = last.rsplit(":", 1)[1] if ":" in last else "latest"
    version = env.get("APP_VERSION") or tag
    broken = env.get("APP_BROKEN", "").lower() in ("1", "true", "yes") or \
        bool(BAD_TAG.search(tag))
    return version, broken


class Proc:
    def __init__(self, task_id, version, broken):
        self.task_id = task_id
        self.version = version
        self.broken = broken
        self.popen = None
        self.port = None
        self.started = time.time()


class ListenerHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server_version = "awssim-elb"
    sys_version = ""

    def log_message(self, fmt, *args):
        pass

    def _any(self):
        traffic = self.server.traffic
        kind = self.server.kind
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else None
        port, tg, rev, version = traffic.pick(kind)
        if port is None:
            traffic.count(kind, None, 503)
            return self._reply(503, b"503 Service Temporarily Unavailable\n",
                               {})
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("host", "connection",
                                            "content-length")}
            conn.request(self.command, self.path, body, headers)
            resp = conn.getresponse()
            data = resp.read()
            status = resp.status
            extra = {k: v for k, v in resp.getheaders()
                     if k.lower() in ("content-type", "x-app-version")}
            conn.close()
        except OSError:
            traffic.count(kind, version, 502)
            return self._reply(502, b"502 Bad Gateway\n",
                               {"X-Sim-Target-Group": tg,
                                "X-Sim-Revision": rev})
        traffic.count(kind, version, status)
        extra["X-Sim-Target-Group"] = tg
        extra["X-Sim-Revision"] = rev
        self._reply(status, data, extra)

    def _reply(self, status, data, headers):
        self.send_response(status)
        if not any(k.lower() == "content-type" for k in headers):
            self.send_header("Content-Type", "text/plain")
        for k, v in headers.items():
            if v is not None:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any


class Listener(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class Service:
    name = "traffic"

    def __init__(self, sim):
        self.sim = sim
        self.ecs = sim.services.get("ecs")
        self.procs = {}             # task id -> Proc
        self.servers = {}           # kind -> Listener
        self.enabled = False
        self.parent_pid = 0
        self.deadline = None
        self.jobs = queue.Queue()
        self.worker = None
        self.bound = None           # (account, region, cluster, service)
        self.counter = {k: 0 for k in KINDS}
        self.rr = 0
        self.served = {k: {} for k in KINDS}
        self.broken_images = []     # /_sim/traffic/broken substrings
        if self.ecs is not None:
            self.ecs.task_ready = self._task_ready
        atexit.register(self._stop_all_now)

    # ---- AWS side: none

    def call(self, op, params, req):
        from .common import AwsError
        raise AwsError("UnknownOperationException",
                       "Unknown operation %s" % op)

    # ---- start (server.main)

    def start(self, parent_pid=0, max_lifetime=1800):
        """Opens the production and test listeners, starts the worker
        and the ticker; returns {"production": port, "test": port}."""
        self.parent_pid = parent_pid
        self.deadline = time.monotonic() + max_lifetime
        ports = {}
        for kind in KINDS:
            srv = Listener(("127.0.0.1", 0), ListenerHandler)
            srv.traffic = self
            srv.kind = kind
            self.servers[kind] = srv
            ports[kind] = srv.server_address[1]
            threading.Thread(target=srv.serve_forever, args=(0.2,),
                             daemon=True, name="listener-" + kind).start()
        self.worker = threading.Thread(target=self._work, daemon=True,
                                       name="traffic-worker")
        self.worker.start()
        threading.Thread(target=self._tick, daemon=True,
                         name="traffic-ticker").start()
        self.enabled = True
        return ports

    # ---- readiness (called by the ECS model, sim.lock held)

    def _task_ready(self, task):
        if not self.enabled or strategies.advanced(task.svc) is None:
            return True
        p = self.procs.get(task.id)
        if p is None:
            return len(self.procs) >= MAX_PROCS
        return p.port is not None

    # ---- the ticker: moves the model, says which processes should run

    def _services(self):
        for rs in list(self.ecs.regions.values()):
            for cl in rs.clusters.values():
                for svc in cl.services.values():
                    if svc.status == "ACTIVE" and \
                            strategies.advanced(svc) is not None:
                        yield rs, svc

    def _tick(self):
        while True:
            time.sleep(TICK)
            try:
                with self.sim.lock:
                    now = float(self.sim.now())
                    regions = {id(rs): rs for rs, _ in self._services()}
                    for rs in regions.values():
                        self.ecs._advance(rs, now)
                    wanted = {}
                    for _, svc in self._services():
                        for task in svc.tasks:
                            if task.live and task.last_status == "RUNNING":
                                wanted[task.id] = self._release(task.td)
                self._reconcile(wanted)
            except Exception as e:  # keep ticking; say why
                self.sim.log("traffic: tick: %s" % e)

    def _release(self, td):
        version, broken = release_of(td)
        image = essential_container(td).get("image") or ""
        return version, broken or any(b in image
                                      for b in self.broken_images)

    def _reconcile(self, wanted):
        for tid in list(self.procs):
            if tid not in wanted:
                p = self.procs.pop(tid)
                self.jobs.put(lambda p=p: self._stop(p))
        for tid, (version, broken) in wanted.items():
            if tid in self.procs or len(self.procs) >= MAX_PROCS:
                continue
            p = self.procs[tid] = Proc(tid, version, broken)
            self.jobs.put(lambda p=p: self._spawn(p))

    # ---- processes (worker thread: the parent-death signal follows the
    # thread that forked)

    def _work(self):
        while True:
            fn = self.jobs.get()
            try:
                fn()
            except Exception as e:
                self.sim.log("traffic: %s" % e)

    def _spawn(self, p):
        if self.procs.get(p.task_id) is not p:
            return
        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = here
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        left = max(1.0, self.deadline - time.monotonic())
        argv = [sys.executable, "-m", "awssim.taskapp",
                "--version", p.version, "--parent-pid", str(self.parent_pid),
                "--max-lifetime", "%d" % left]
        if p.broken:
            argv.append("--broken")
        p.popen = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL, text=True,
                                   preexec_fn=die_with_parent,
                                   close_fds=True)
        threading.Thread(target=self._read_port, args=(p,),
                         daemon=True).start()

    def _read_port(self, p):
        line = p.popen.stdout.readline().strip()
        if line.isdigit():
            p.port = int(line)
            self.sim.log("traffic: task %s serves %s%s on 127.0.0.1:%d "
                         "(pid %d)" % (p.task_id, p.version,
                                       " (broken)" if p.broken else "",
                                       p.port, p.popen.pid))
        p.popen.stdout.read()

    def _stop(self, p):
        pop = p.popen
        p.port = None
        if pop is None or pop.poll() is not None:
            return
        pop.terminate()
        try:
            pop.wait(STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pop.kill()
            pop.wait()

    def _stop_all_now(self):
        for p in list(self.procs.values()):
            try:
                self._stop(p)
            except Exception:
                pass

    # ---- routing (listener threads)

    def _bound_service(self):
        if self.bound is not None:
            rs = self.ecs.regions.get(self.bound[:2])
            cl = rs.clusters.get(self.bound[2]) if rs else None
            return cl.services.get(self.bound[3]) if cl else None
        best, when = None, None
        for _, svc in self._services():
            t = svc.sds[0].created_at if svc.sds else svc.created_at
            if when is None or t > when:
                best, when = svc, t
        return best

    def pick(self, kind):
        """(port, target group ARN, revision ARN, version) of the task
        this request goes to, or Nones."""
        with self.sim.lock:
            svc = self._bound_service()
            if svc is None:
                return None, None, None, None
            route = [(d, w) for d, w in strategies.routing(svc)[kind]
                     if w > 0]
            if not route:
                return None, None, None, None
            n = self.counter[kind]
            self.counter[kind] += 1
            dep = route[0][0]
            if len(route) > 1:
                w = route[1][1]
                # green gets exactly w% of the requests, interleaved
                if int((n + 1) * w / 100.0) > int(n * w / 100.0):
                    dep = route[1][0]
            tasks = [x for x in svc.tasks
                     if x.live and x.last_status == "RUNNING" and
                     (dep is None or x.dep is dep)]
            ready = [(x, self.procs[x.id]) for x in tasks
                     if x.id in self.procs and
                     self.procs[x.id].port is not None]
            if not ready:
                return None, None, None, None
            self.rr += 1
            task, p = ready[self.rr % len(ready)]
            adv = strategies.advanced(svc) or {}
            tg = adv.get("targetGroupArn")
            run = strategies.running(svc)
            if run is not None and task.dep is run.sd.target and \
                    run.blue is not None:
                tg = adv.get("alternateTargetGroupArn")
            return p.port, tg, task.dep.revision_arn, p.version

    def count(self, kind, version, status):
        with self.sim.lock:
            by = self.served[kind].setdefault(version or "-", {})
            key = str(status)
            by[key] = by.get(key, 0) + 1

    # ---- control API (sim.lock held)

    def control(self, action, body):
        if action == "status":
            out = {"listeners": {k: "127.0.0.1:%d" % s.server_address[1]
                                 for k, s in self.servers.items()},
                   "served": {k: dict(v) for k, v in self.served.items()},
                   "tasks": [{"task": p.task_id, "version": p.version,
                              "broken": p.broken, "port": p.port,
                              "pid": p.popen.pid if p.popen else None}
                             for p in self.procs.values()]}
            svc = self._bound_service()
            if svc is not None:
                out["bound"] = {"account": svc.rs.account,
                                "region": svc.rs.region,
                                "cluster": svc.cluster.name,
                                "service": svc.name}
            if body.get("reset_counts"):
                self.served = {k: {} for k in KINDS}
            return out
        if action == "bind":
            keys = ("account", "region", "cluster", "service")
            if not all(body.get(k) for k in keys):
                raise ValueError("bind needs account, region, cluster and "
                                 "service")
            self.bound = tuple(str(body[k]).split("/")[-1] for k in keys)
            return {"bound": dict(zip(keys, self.bound))}
        if action == "broken":
            image = body.get("image")
            if not isinstance(image, str) or not image:
                raise ValueError("broken needs image: a part of the image "
                                 "reference whose tasks answer 500")
            if image not in self.broken_images:
                self.broken_images.append(image)
            return {"broken": list(self.broken_images)}
        raise LookupError("no control path /_sim/traffic/%s" % action)

    def reset(self):
        self.bound = None
        self.broken_images = []
        self.served = {k: {} for k in KINDS}
        procs, self.procs = list(self.procs.values()), {}
        for p in procs:
            self.jobs.put(lambda p=p: self._stop(p))
