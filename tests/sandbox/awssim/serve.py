"""What a simulated ECS service serves: one host process of a real program
(the demo's example service, contrib/example/address-api) standing for the
service's running tasks, on a fixed 127.0.0.1 port.

POST /_sim/serve {"account", "region", "cluster", "service", "binary",
"port", "env"?} ties a service to a program and a port.  From then on, each
time a deployment of that service COMPLETES (the ECS model's listeners),
the process is (re)started with the environment of the completed task
definition's first essential container, PORT, and APP_VERSION taken from
that environment or else from the image tag (what follows the last ':').
So a new version answers only once ECS is done with it; a release that
crash-loops never completes, ECS rolls it back, and the old process keeps
answering.  When the service already has a completed deployment, the
process starts at once.

POST /_sim/serve/status {} lists the services served, their version, pid
and every start so far; POST /_sim/serve/stop {account, region, cluster,
service} stops one.  /_sim/reset stops them all, and so does the
simulator's exit: the processes are its children (PR_SET_PDEATHSIG, so not
even a SIGKILL of the simulator leaves one behind).

The ECS model only moves when called; a ticker brings the served services'
regions up to the simulated time four times a second, so completion does
not wait for a client to ask.
"""

import atexit
import os
import queue
import socket
import subprocess
import threading
import time

from .common import die_with_parent, essential_container

TICK = 0.25
READY_SECONDS = 3.0
STOP_SECONDS = 2.0
MAX_HISTORY = 50


def version_of(td):
    """APP_VERSION of the container's environment, else the image tag."""
    c = essential_container(td)
    for e in c.get("environment") or []:
        if e.get("name") == "APP_VERSION" and e.get("value"):
            return e["value"]
    image = c.get("image") or ""
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        last = last.split("@", 1)[0]
    return last.rsplit(":", 1)[1] if ":" in last else "latest"


def _env_of(td):
    return {e["name"]: str(e.get("value", ""))
            for e in essential_container(td).get("environment") or []
            if e.get("name")}


class Target:
    def __init__(self, key, binary, port, env):
        self.key = key                # (account, region, cluster, service)
        self.binary = binary
        self.port = port
        self.env = env
        self.proc = None
        self.version = None
        self.td_arn = None
        self.wanted = None            # (version, sorted env items) running
        self.history = []

    def out(self):
        alive = self.proc is not None and self.proc.poll() is None
        return {"account": self.key[0], "region": self.key[1],
                "cluster": self.key[2], "service": self.key[3],
                "binary": self.binary, "port": self.port,
                "running": alive,
                "pid": self.proc.pid if alive else None,
                "exit_code": None if self.proc is None or alive
                else self.proc.returncode,
                "version": self.version, "task_definition": self.td_arn,
                "history": list(self.history)}


class Service:
    name = "serve"

    def __init__(self, sim):
        self.sim = sim
        self.targets = {}
        self.jobs = queue.Queue()
        self.worker = None
        self.ticker = None
        self.ecs = sim.services.get("ecs")
        if self.ecs is not None and hasattr(self.ecs, "listeners"):
            self.ecs.listeners.append(self._completed)
        atexit.register(self._stop_all_now)

    # ---- AWS side: none

    def call(self, op, params, req):
        from .common import AwsError
        raise AwsError("UnknownOperationException",
                       "Unknown operation %s" % op)

    # ---- threads

    def _start_threads(self):
        if self.worker is None:
            # Processes are spawned by this one long-lived thread: the
            # parent-death signal follows the thread that forked.
            self.worker = threading.Thread(target=self._work, daemon=True,
                                           name="serve-worker")
            self.worker.start()
        if self.ticker is None and self.ecs is not None:
            self.ticker = threading.Thread(target=self._tick, daemon=True,
                                           name="serve-ticker")
            self.ticker.start()

    def _work(self):
        while True:
            fn, done, box = self.jobs.get()
            try:
                box.append(fn())
            except Exception as e:  # reported to the caller
                box.append(e)
            done.set()

    def _in_worker(self, fn):
        """Runs fn on the worker thread and returns what it returned."""
        if threading.current_thread() is self.worker:
            return fn()
        self._start_threads()
        done, box = threading.Event(), []
        self.jobs.put((fn, done, box))
        if not done.wait(READY_SECONDS + STOP_SECONDS + 5):
            raise RuntimeError("serve: the worker did not answer")
        if isinstance(box[0], Exception):
            raise box[0]
        return box[0]

    def _tick(self):
        ecs = self.ecs
        while True:
            time.sleep(TICK)
            with self.sim.lock:
                regions = set((k[0], k[1]) for k in self.targets)
            for account, region in regions:
                with self.sim.lock:
                    rs = ecs.regions.get((account, region))
                    if rs is not None:
                        try:
                            ecs._advance(rs, float(self.sim.now()))
                        except Exception as e:
                            self.sim.log("serve: ticking %s/%s: %s"
                                         % (account, region, e))

    # ---- processes (worker thread only)

    def _stop(self, t):
        p = t.proc
        if p is None:
            return
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        t.proc = None
        t.wanted = None

    def _pump(self, t, proc):
        for line in proc.stdout:
            self.sim.log("serve %s/%s: %s" % (t.key[3], t.port,
                                              line.rstrip("\n")))
        proc.stdout.close()

    def _launch(self, t, td):
        version = version_of(td)
        env = dict(os.environ)
        env.update(_env_of(td))
        env.update(t.env)
        env["APP_VERSION"] = version
        env["PORT"] = str(t.port)
        wanted = (version, tuple(sorted(env.items())))
        if t.wanted == wanted and t.proc is not None and \
                t.proc.poll() is None:
            t.td_arn = td.get("taskDefinitionArn")
            return
        self._stop(t)
        proc = subprocess.Popen([t.binary], env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True,
                                preexec_fn=die_with_parent,
                                close_fds=True)
        t.proc, t.wanted = proc, wanted
        t.version, t.td_arn = version, td.get("taskDefinitionArn")
        threading.Thread(target=self._pump, args=(t, proc),
                         daemon=True).start()
        ready = False
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", t.port), 0.2).close()
                ready = True
                break
            except OSError:
                time.sleep(0.02)
        t.history.append({"version": version, "pid": proc.pid,
                          "task_definition": t.td_arn,
                          "started": time.time(), "ready": ready,
                          "exit_code": proc.poll()})
        del t.history[:-MAX_HISTORY]
        self.sim.log("serve: %s on 127.0.0.1:%d now serves %s (pid %d, %s)"
                     % (t.key[3], t.port, version, proc.pid,
                        "ready" if ready else
                        "exited %s" % proc.poll() if proc.poll() is not None
                        else "not answering"))

    def _stop_all_now(self):
        for t in list(self.targets.values()):
            try:
                self._stop(t)
            except Exception:
                pass

    # ---- the ECS listener (called with sim.lock held)

    def _completed(self, account, region, cluster, service, td, rollback):
        t = self.targets.get((account, region, cluster, service))
        if t is None:
            return
        try:
            self._in_worker(lambda: self._launch(t, td))
        except Exception as e:
            self.sim.log("serve: starting %s: %s" % (service, e))

    # ---- control API (called with sim.lock held)

    def _key(self, body):
        for k in ("account", "region", "cluster", "service"):
            if not body.get(k):
                raise ValueError("serve needs account, region, cluster and "
                                 "service")
        return (str(body["account"]), str(body["region"]),
                str(body["cluster"]).split("/")[-1],
                str(body["service"]).split("/")[-1])

    def _completed_td(self, key):
        ecs = self.ecs
        if ecs is None:
            return None
        rs = ecs.regions.get((key[0], key[1]))
        if rs is None:
            return None
        ecs._advance(rs, float(self.sim.now()))
        cl = rs.clusters.get(key[2])
        svc = cl.services.get(key[3]) if cl else None
        if svc is None or svc.last_completed is None:
            return None
        return svc.last_completed.td

    def control(self, action, body):
        if action == "serve":
            key = self._key(body)
            binary = body.get("binary")
            port = body.get("port")
            if not binary or not os.access(binary, os.X_OK):
                raise ValueError("binary must name an executable file")
            if not isinstance(port, int) or not 0 < port < 65536:
                raise ValueError("port must be a TCP port number")
            env = body.get("env") or {}
            if not isinstance(env, dict):
                raise ValueError("env must be an object")
            for other in self.targets.values():
                if other.port == port and other.key != key:
                    raise ValueError("port %d already serves %s"
                                     % (port, other.key[3]))
            old = self.targets.get(key)
            if old is not None:
                self._in_worker(lambda: self._stop(old))
            t = self.targets[key] = Target(key, binary, port,
                                           {str(k): str(v)
                                            for k, v in env.items()})
            self._start_threads()
            td = self._completed_td(key)
            if td is not None:
                self._in_worker(lambda: self._launch(t, td))
            return t.out()
        if action == "status":
            return {"served": [t.out() for t in self.targets.values()]}
        if action == "stop":
            t = self.targets.pop(self._key(body), None)
            if t is None:
                raise LookupError("that service is not served")
            self._in_worker(lambda: self._stop(t))
            return {}
        raise LookupError("no control path /_sim/serve/%s" % action)

    def reset(self):
        targets, self.targets = list(self.targets.values()), {}
        if not targets:
            return
        for t in targets:
            self._in_worker(lambda t=t: self._stop(t))
