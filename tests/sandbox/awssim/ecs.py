"""Amazon ECS for the sandbox: task definitions, services and a rolling-
deployment model that behaves like the ECS scheduler closely enough for gantry
to be tested against it (deployments[], rolloutState, circuit breaker,
rollback, service deployments, events, tasks with stoppedReason and exit
codes).

The model has no threads.  Every call first brings the (account, region) it
touches up to sim.now() in one-second simulated steps, skipping ahead when
nothing is due, so the outcome depends on simulated time only.

Scenarios (POST /_sim/ecs/scenario) pick how new tasks behave:
  {"account", "region", "cluster", "service", "scenario"}  deployments of
      that service created from now on (CreateService included);
  {"image": "<substring>", "scenario"}  any task created from now on whose
      task definition has a container image containing the substring
      (account and region optional; this wins over the service's scenario).
account or region left out match any.  scenario is one of SCENARIOS.

Choices where ECS is vague: a FAILED deployment launches no more tasks (as
documented); without the circuit breaker a crash-looping deployment keeps
relaunching, backing off after THROTTLE_AFTER failures in a row; failedTasks
counts the failures of the PRIMARY while it is IN_PROGRESS, so it stops at
the threshold; rollback goes to the last COMPLETED deployment, as a new
ecs-svc/ deployment, and is reported on the failed service deployment
(ROLLBACK_IN_PROGRESS -> ROLLBACK_SUCCESSFUL); a service deployment that a
newer UpdateService overtakes becomes STOPPED.
"""

import math
import random
import uuid

try:
    from .server import AwsError
except ImportError:  # unit tests without the framework
    class AwsError(Exception):
        def __init__(self, code, message, status=400):
            super().__init__(code, message)
            self.code = code
            self.message = message
            self.status = status

from . import ecs_strategies as strategies  # noqa: E402
strategies.AwsError = AwsError


SCENARIOS = ("healthy", "crash-loop", "unhealthy", "slow", "never-stable")

START_SECONDS = {"healthy": 10, "crash-loop": 10, "unhealthy": 10,
                 "slow": 120, "never-stable": 10}
CRASH_AFTER = 5             # crash-loop: seconds from RUNNING to exit 1
UNHEALTHY_CHECKS = 30       # ELB: 3 failed checks of 10 s after the grace
STOP_SECONDS = 3            # DEACTIVATING -> STOPPING -> STOPPED
THROTTLE_AFTER = 10         # consecutive failures before launches back off
THROTTLE_MAX = 900

MAX_LIVE_TASKS = 1000
MAX_STOPPED_TASKS = 100
MAX_EVENTS = 100
MAX_SERVICE_DEPLOYMENTS = 100
MAX_STEPS = 20000           # per call; beyond it the clock jumps

LIVE = ("PROVISIONING", "PENDING", "ACTIVATING", "RUNNING")
PENDINGISH = ("PROVISIONING", "PENDING", "ACTIVATING")

CB_REASON = "ECS deployment circuit breaker: tasks failed to start."
ONGOING_SD = ("PENDING", "IN_PROGRESS", "STOP_REQUESTED",
              "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")

_rng = random.SystemRandom()


def circuit_breaker_threshold(desired):
    """0.5 x desired count, rounded up, clamped to [3, 200]."""
    return max(3, min(200, int(math.ceil(0.5 * desired))))


def _digits(n):
    return str(_rng.randint(1, 9)) + "".join(
        str(_rng.randint(0, 9)) for _ in range(n - 1))


def _sd_id():
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return ("".join(_rng.choice(chars) for _ in range(8)) + "-" +
            "".join(_rng.choice(chars) for _ in range(12)))


def _deepcopy(v):
    if isinstance(v, dict):
        return {k: _deepcopy(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_deepcopy(x) for x in v]
    return v


# Members of RegisterTaskDefinitionRequest (botocore's ECS model) kept as
# registered; family, containerDefinitions, networkMode, volumes,
# placementConstraints and requiresCompatibilities are normalised, tags
# are kept apart (DescribeTaskDefinition returns them only with include
# TAGS, beside taskDefinition).  Anything else a request carries is not
# stored, so it never comes back.
REGISTER_KEPT = ("taskRoleArn", "executionRoleArn", "cpu", "memory",
                 "pidMode", "ipcMode", "proxyConfiguration",
                 "inferenceAccelerators", "ephemeralStorage",
                 "runtimePlatform", "enableFaultInjection")


def _check_tags(tags):
    """The model's limits of Tags: at most 50, keys of 1-128 characters,
    values up to 256, each key once."""
    if not isinstance(tags, list) or len(tags) > 50:
        raise AwsError("InvalidParameterException",
                       "tags: at most 50 tags are allowed.")
    seen = set()
    for tag in tags:
        key = tag.get("key") if isinstance(tag, dict) else None
        if not isinstance(key, str) or not 1 <= len(key) <= 128:
            raise AwsError("InvalidParameterException",
                           "The tag key must be 1 to 128 characters.")
        if len(tag.get("value") or "") > 256:
            raise AwsError("InvalidParameterException",
                           "The tag value must be at most 256 characters.")
        if key in seen:
            raise AwsError("InvalidParameterException",
                           "Duplicate tag key %s." % key)
        seen.add(key)


def _ensure_bool(v):
    return bool(v) if v is not None else False


def _name_of(ref):
    """Last path element of a name or ARN (service/cluster/name -> name)."""
    if ref is None:
        return None
    if ref.startswith("arn:"):
        return ref.split(":", 5)[-1].split("/")[-1]
    return ref


def _counts(tasks):
    running = sum(1 for x in tasks if x.last_status == "RUNNING")
    pending = sum(1 for x in tasks if x.last_status in PENDINGISH)
    return running, pending


def _revision_summary(dep):
    tasks = dep.tasks()
    running, pending = _counts(tasks)
    requested = dep.desired if dep.status == "PRIMARY" else len(tasks)
    return {"arn": dep.revision_arn, "requestedTaskCount": requested,
            "runningTaskCount": running, "pendingTaskCount": pending}


# --------------------------------------------------------------------------
# state objects


class Task:
    def __init__(self, svc, dep, td, scenario, t):
        self.id = uuid.uuid4().hex
        self.arn = "%s:task/%s/%s" % (svc.rs.arn_prefix, svc.cluster.name,
                                      self.id)
        self.svc = svc
        self.dep = dep
        self.td = td
        self.scenario = scenario
        self.created_at = t
        self.pull_started = None
        self.pull_stopped = None
        self.started_at = None
        self.stopping_at = None
        self.stopped_at = None
        self.last_status = "PROVISIONING"
        self.desired_status = "RUNNING"
        self.health = "UNKNOWN"
        self.stopped_reason = None
        self.stop_code = None
        self.exit_code = None     # of the first essential container
        self.others_exit = None   # of the other containers
        self.failed = False
        grace = svc.grace or 0
        start = START_SECONDS[scenario]
        self.pending_at = t + 1
        self.run_at = t + start
        self.healthy_at = None
        self.fail_at = None
        if scenario in ("healthy", "slow"):
            self.healthy_at = self.run_at + grace
        elif scenario == "crash-loop":
            self.fail_at = self.run_at + CRASH_AFTER
        elif scenario == "unhealthy":
            self.fail_at = self.run_at + grace + UNHEALTHY_CHECKS
        self.stopped_due = None

    @property
    def live(self):
        return self.desired_status == "RUNNING" and self.last_status in LIVE

    @property
    def healthy(self):
        return self.live and self.last_status == "RUNNING" and \
            self.health == "HEALTHY"

    def next_due(self):
        if self.last_status == "STOPPED":
            return None
        if self.desired_status == "STOPPED":
            return self.stopped_due
        cands = []
        if self.last_status == "PROVISIONING":
            cands.append(self.pending_at)
        if self.last_status in PENDINGISH:
            cands.append(self.run_at)
        if self.last_status == "RUNNING":
            if self.health != "HEALTHY" and self.healthy_at is not None:
                cands.append(self.healthy_at)
            if self.fail_at is not None:
                cands.append(self.fail_at)
        return min(cands) if cands else None


class Deployment:
    """One entry of services[].deployments[] (and, unless it is a rollback,
    the service deployment it stands for)."""

    def __init__(self, svc, td, scenario, t, sd=None):
        self.id = "ecs-svc/" + _digits(19)
        self.svc = svc
        self.td = td
        self.scenario = scenario
        self.status = "PRIMARY"
        self.desired = svc.desired
        self.failed_tasks = 0
        self.created_at = t
        self.updated_at = t
        self.rollout_state = "IN_PROGRESS"
        self.rollout_reason = "ECS deployment %s in progress." % self.id
        self.launch_type = svc.launch_type
        self.platform_version = svc.platform_version
        self.network = _deepcopy(svc.network) if svc.network else None
        self.revision_arn = "%s:service-revision/%s/%s/%s" % (
            svc.rs.arn_prefix, svc.cluster.name, svc.name, _digits(19))
        self.revision_created = t
        self.sd = sd
        self.consec_failures = 0
        self.next_launch = t

    def tasks(self):
        return [x for x in self.svc.tasks if x.dep is self and x.live]


class ServiceDeployment:
    def __init__(self, svc, dep, sources, t):
        self.id = _sd_id()
        self.arn = "%s:service-deployment/%s/%s/%s" % (
            svc.rs.arn_prefix, svc.cluster.name, svc.name, self.id)
        self.svc = svc
        self.target = dep
        self.sources = sources
        self.created_at = t
        self.started_at = t
        self.finished_at = None
        self.stopped_at = None
        self.updated_at = t
        self.status = "IN_PROGRESS"
        self.status_reason = None
        self.config = _deepcopy(svc.config)
        self.rollback = None   # {reason, startedAt, serviceRevisionArn}
        self.rollback_dep = None
        self.rollback_request = None   # reason of a pending rollback request
        self.cb_status = ("MONITORING" if svc.config[
            "deploymentCircuitBreaker"]["enable"] else "DISABLED")
        alarms = svc.config.get("alarms") or {}
        self.alarm_status = "MONITORING" if alarms.get("enable") else \
            "DISABLED"
        self.triggered = []
        self.frozen = None      # revision summaries when it finished
        self.run = None         # ecs_strategies.Run (not ROLLING)
        self.final = None       # how a strategy's rollback ends

    def summaries(self):
        """(sources, target): live while the deployment runs; the counts
        of the moment it finished afterwards, as ECS reports them."""
        if self.frozen is not None:
            return self.frozen
        out = ([_revision_summary(x) for x in self.sources],
               _revision_summary(self.target))
        strategies.weigh(self, out[0], out[1])
        return out

    def set_status(self, status, t, reason=None):
        self.status = status
        self.updated_at = t
        if reason is not None:
            self.status_reason = reason
        if status in ("SUCCESSFUL", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"):
            self.finished_at = t
            if self.cb_status == "MONITORING":
                self.cb_status = "MONITORING_COMPLETE"
            if self.alarm_status == "MONITORING":
                self.alarm_status = "MONITORING_COMPLETE"
        if status == "STOPPED":
            self.stopped_at = t
            self.finished_at = t
        if self.finished_at is not None and self.frozen is None:
            self.frozen = self.summaries()


class Svc:
    def __init__(self, rs, cluster, name, td, params, t):
        self.rs = rs
        self.cluster = cluster
        self.name = name
        self.arn = "%s:service/%s/%s" % (rs.arn_prefix, cluster.name, name)
        self.status = "ACTIVE"
        self.desired = int(params.get("desiredCount") or 0)
        self.launch_type = params.get("launchType") or (
            None if params.get("capacityProviderStrategy") else "EC2")
        self.capacity = params.get("capacityProviderStrategy")
        self.platform_version = params.get("platformVersion") or (
            "LATEST" if self.launch_type == "FARGATE" else None)
        self.network = params.get("networkConfiguration")
        self.load_balancers = params.get("loadBalancers") or []
        self.grace = params.get("healthCheckGracePeriodSeconds")
        self.config = _merge_config(None,
                                    params.get("deploymentConfiguration"))
        self.tags = params.get("tags") or []
        self.created_at = t
        self.events = []
        self.deployments = []
        self.sds = []
        self.tasks = []
        self.last_completed = None
        self.steady = False
        self.td = td

    @property
    def primary(self):
        return self.deployments[0] if self.deployments else None

    def event(self, t, message):
        self.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": t,
                               "message": message})
        del self.events[MAX_EVENTS:]

    def tag(self):
        return "(service %s)" % self.name


class Cluster:
    def __init__(self, rs, name, t):
        self.name = name
        self.arn = "%s:cluster/%s" % (rs.arn_prefix, name)
        self.services = {}
        self.created_at = t


class RegionState:
    def __init__(self, account, region):
        self.account = account
        self.region = region
        self.arn_prefix = "arn:aws:ecs:%s:%s" % (region, account)
        self.clusters = {}
        self.families = {}
        self.clock = None


def _merge_config(old, new):
    cfg = _deepcopy(old) if old else {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
        "alarms": {"alarmNames": [], "enable": False, "rollback": False},
    }
    if not new:
        return cfg
    for key in ("maximumPercent", "minimumHealthyPercent"):
        if new.get(key) is not None:
            v = new[key]
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise AwsError("InvalidParameterException",
                               "%s must be a non-negative integer." % key)
            cfg[key] = v
    cb = new.get("deploymentCircuitBreaker")
    if cb is not None:
        cfg["deploymentCircuitBreaker"] = {
            "enable": _ensure_bool(cb.get("enable")),
            "rollback": _ensure_bool(cb.get("rollback"))}
    al = new.get("alarms")
    if al is not None:
        cfg["alarms"] = {"alarmNames": list(al.get("alarmNames") or []),
                         "enable": _ensure_bool(al.get("enable")),
                         "rollback": _ensure_bool(al.get("rollback"))}
    strategies.merge_config(cfg, new)
    if cfg["minimumHealthyPercent"] > 100:
        raise AwsError("InvalidParameterException",
                       "minimumHealthyPercent must be between 0 and 100.")
    if cfg["maximumPercent"] < 100:
        raise AwsError("InvalidParameterException",
                       "maximumPercent must be at least 100.")
    return cfg


# --------------------------------------------------------------------------
# the service


class Service:
    name = "ecs"
    target_prefix = "AmazonEC2ContainerServiceV20141113"

    def __init__(self, sim):
        self.sim = sim
        # Called as fn(account, region, cluster, service, td, rollback)
        # when a service's PRIMARY deployment completes (serve.py starts
        # the example service's process then); kept across resets.
        self.listeners = []
        # traffic.py sets this: fn(task) -> whether the task's process
        # serves (a blue/green SCALE_UP waits for it)
        self.task_ready = None
        self.reset()

    def reset(self):
        self.regions = {}
        # [(account|None, region|None, cluster, service, image|None, scenario)]
        self.scenarios = []
        # services whose deployments report no rolloutState
        self.no_rollout_state = set()
        # accounts whose caller may not tag on create (ecs:TagResource)
        self.deny_tag_on_create = set()
        # Lambda hook answers: [(function substring, [answers])]
        self.lambda_answers = []
        self.lambda_invocations = []

    # ---- plumbing

    def _rs(self, account, region):
        key = (account, region)
        rs = self.regions.get(key)
        if rs is None:
            rs = self.regions[key] = RegionState(account, region)
        return rs

    def call(self, op, params, req):
        handler = getattr(self, "op_" + op, None)
        if handler is None:
            raise AwsError("UnknownOperationException",
                           "Unknown operation %s" % op)
        if params is None:
            params = {}
        if not isinstance(params, dict):
            raise AwsError("SerializationException",
                           "Request body must be a JSON object.")
        rs = self._rs(req.account, req.region)
        now = float(self.sim.now())
        self._advance(rs, now)
        return handler(rs, params, now)

    def control(self, action, body):
        body = body or {}
        if action == "scenario":
            return self._set_scenario(body)
        if action == "no-rollout-state":
            # Services behind a Classic Load Balancer (and some EC2
            # services) report no rolloutState: clients must fall back to
            # "one deployment, running == desired, our task definition".
            name = _name_of(body.get("service"))
            if not name:
                raise AwsError("InvalidParameterException",
                               "no-rollout-state needs a service")
            if body.get("enabled", True):
                self.no_rollout_state.add(name)
            else:
                self.no_rollout_state.discard(name)
            return {"ok": True, "services": sorted(self.no_rollout_state)}
        if action == "deny-tag-on-create":
            if not body.get("account"):
                raise AwsError("InvalidParameterException",
                               "deny-tag-on-create needs an account")
            if body.get("enabled", True):
                self.deny_tag_on_create.add(body["account"])
            else:
                self.deny_tag_on_create.discard(body["account"])
            return {"accounts": sorted(self.deny_tag_on_create)}
        if action == "task-definition":
            return self._seed_task_definition(body)
        if action == "lambda-hook":
            return self._set_lambda_answer(body)
        if action == "lambda-invocations":
            return {"invocations": list(self.lambda_invocations)}
        if action == "advance":
            secs = float(body.get("seconds") or 0)
            adv = getattr(self.sim, "advance", None)
            if adv is not None:
                adv(secs)
            return {"now": self.sim.now()}
        raise AwsError("InvalidParameterException",
                       "unknown ecs control action %s" % action, 404)

    def _set_scenario(self, body):
        scenario = body.get("scenario") or "healthy"
        if scenario not in SCENARIOS:
            raise AwsError("InvalidParameterException",
                           "scenario must be one of %s" % ", ".join(SCENARIOS))
        image = body.get("image")
        service = body.get("service")
        if not image and not service:
            raise AwsError("InvalidParameterException",
                           "scenario needs a service or an image")
        entry = (body.get("account"), body.get("region"),
                 _name_of(body.get("cluster")) or "default",
                 _name_of(service), image, scenario)
        # the latest setting for the same key wins
        self.scenarios = [s for s in self.scenarios if s[:5] != entry[:5]]
        self.scenarios.append(entry)
        del self.scenarios[:-200]
        return {"ok": True, "scenario": scenario}

    def _set_lambda_answer(self, body):
        """/_sim/ecs/lambda-hook {"function": ARN or a part of it,
        "answers": [{"hookStatus", "callBackDelay"}...]} (or one answer as
        "hookStatus"/"callBackDelay"): what the hook's Lambda function
        answers, one answer per invocation, the last one repeating."""
        fn = body.get("function")
        if not isinstance(fn, str) or not fn:
            raise AwsError("InvalidParameterException",
                           "lambda-hook needs \"function\" (an ARN or a "
                           "part of one)")
        answers = body.get("answers")
        if answers is None:
            answers = [{k: body[k] for k in ("hookStatus", "callBackDelay")
                        if k in body}]
        if not isinstance(answers, list) or not answers:
            raise AwsError("InvalidParameterException",
                           "answers must be a non-empty list")
        self.lambda_answers = [a for a in self.lambda_answers if a[0] != fn]
        self.lambda_answers.append((fn, [_deepcopy(a) for a in answers]))
        return {"function": fn, "answers": answers}

    def lambda_answer(self, arn):
        for fn, answers in reversed(self.lambda_answers):
            if fn in arn:
                return answers.pop(0) if len(answers) > 1 else answers[0]
        return {"hookStatus": "SUCCEEDED"}

    def _scenario_for_service(self, rs, cluster, service):
        for acct, region, cl, svc, image, scen in reversed(self.scenarios):
            if image or svc != service or cl != cluster:
                continue
            if acct not in (None, rs.account) or \
                    region not in (None, rs.region):
                continue
            return scen
        return "healthy"

    def _scenario_for_image(self, rs, td):
        images = [c.get("image") or "" for c in td["containerDefinitions"]]
        for acct, region, _cl, _svc, image, scen in reversed(self.scenarios):
            if not image:
                continue
            if acct not in (None, rs.account) or \
                    region not in (None, rs.region):
                continue
            if any(image in im for im in images):
                return scen
        return None

    # ---- time

    def _advance(self, rs, target):
        if rs.clock is None:
            rs.clock = target
            return
        t = rs.clock
        steps = 0
        while t + 1 <= target:
            if steps >= MAX_STEPS:
                t = target
                break
            t += 1
            steps += 1
            busy = False
            for cl in rs.clusters.values():
                for svc in cl.services.values():
                    if self._step(svc, t):
                        busy = True
            if busy:
                continue
            due = self._next_due(rs, t)
            if due is None or due > target:
                t = target
                break
            if due - 1 > t:
                t = due - 1
        rs.clock = t

    def _next_due(self, rs, t):
        best = None
        for cl in rs.clusters.values():
            for svc in cl.services.values():
                for task in svc.tasks:
                    d = task.next_due()
                    if d is not None and (best is None or d < best):
                        best = d
                d = strategies.next_due(svc, t)
                if d is not None and (best is None or d < best):
                    best = d
                # a throttled primary that still wants tasks
                dep = svc.primary
                if dep is not None and dep.rollout_state != "FAILED" and \
                        dep.next_launch > t and \
                        len(dep.tasks()) < svc.desired:
                    if best is None or dep.next_launch < best:
                        best = dep.next_launch
        return best

    # ---- the scheduler

    def _step(self, svc, t):
        changed = False
        for task in list(svc.tasks):
            if self._advance_task(svc, task, t):
                changed = True
        if not svc.deployments:
            return changed
        if self._check_alarms(svc, t):
            changed = True
        if self._pending_rollbacks(svc, t):
            changed = True
        if strategies.finish_rollbacks(self, svc, t):
            changed = True
        if strategies.running(svc) is not None:
            if strategies.step(self, svc, t):
                changed = True
        else:
            if self._schedule(svc, t):
                changed = True
            if self._check_complete(svc, t):
                changed = True
        self._trim(svc)
        return changed

    def _advance_task(self, svc, task, t):
        if task.last_status == "STOPPED":
            return False
        if task.desired_status == "STOPPED":
            if task.stopped_due is not None and t >= task.stopped_due:
                task.last_status = "STOPPED"
                task.stopped_at = task.stopped_due
                return True
            if task.last_status == "DEACTIVATING" and \
                    t >= task.stopping_at + 1:
                task.last_status = "STOPPING"
                return True
            return False
        changed = False
        if task.last_status == "PROVISIONING" and t >= task.pending_at:
            task.last_status = "PENDING"
            task.pull_started = task.pending_at
            changed = True
        if task.last_status == "PENDING" and t >= task.run_at:
            task.last_status = "RUNNING"
            task.pull_stopped = task.run_at - 1
            task.started_at = task.run_at
            changed = True
        if task.last_status == "RUNNING":
            if task.fail_at is not None and t >= task.fail_at:
                self._task_fails(svc, task, task.fail_at)
                return True
            if task.health != "HEALTHY" and task.healthy_at is not None \
                    and t >= task.healthy_at:
                task.health = "HEALTHY"
                task.dep.consec_failures = 0
                changed = True
        return changed

    def _task_fails(self, svc, task, t):
        task.desired_status = "STOPPED"
        task.stopping_at = t
        task.failed = True
        if task.scenario == "crash-loop":
            task.stopped_reason = "Essential container in task exited"
            task.stop_code = "EssentialContainerExited"
            task.exit_code = 1
            task.others_exit = 0
            task.last_status = "STOPPED"
            task.stopped_at = t
            self._crash_logs(svc, task, t)
        else:  # unhealthy
            task.health = "UNHEALTHY"
            tg = self._target_group(svc)
            task.stopped_reason = "Task failed ELB health checks in " \
                "(target-group %s)" % tg
            task.stop_code = "ServiceSchedulerInitiated"
            task.exit_code = 143
            task.others_exit = 143
            task.last_status = "DEACTIVATING"
            task.stopped_due = t + STOP_SECONDS
            port = self._port(task)
            svc.event(t, "%s (port %s) is unhealthy in (target-group %s) due "
                      "to (reason Health checks failed)." %
                      (svc.tag(), port, tg))
            svc.event(t, "%s has stopped 1 running tasks: (task %s)." %
                      (svc.tag(), task.id))
        dep = task.dep
        dep.consec_failures += 1
        if dep.consec_failures >= THROTTLE_AFTER:
            delay = min(THROTTLE_MAX,
                        15 * 2 ** (dep.consec_failures - THROTTLE_AFTER))
            dep.next_launch = max(dep.next_launch, t + delay)
        if dep is svc.primary and dep.rollout_state == "IN_PROGRESS":
            dep.failed_tasks += 1
            dep.updated_at = t
            cb = svc.config["deploymentCircuitBreaker"]
            if cb["enable"] and dep.failed_tasks >= \
                    circuit_breaker_threshold(dep.desired):
                self._fail_deployment(svc, dep, t, CB_REASON,
                                      "tasks failed to start.",
                                      cb["rollback"], "circuit")

    def _target_group(self, svc):
        for lb in svc.load_balancers:
            if lb.get("targetGroupArn"):
                return lb["targetGroupArn"]
        return "arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/" \
            "0123456789abcdef" % (svc.rs.region, svc.rs.account, svc.name)

    def _port(self, task):
        for c in task.td["containerDefinitions"]:
            for pm in c.get("portMappings") or []:
                if pm.get("containerPort"):
                    return pm["containerPort"]
        return 80

    def _crash_logs(self, svc, task, t):
        logs = getattr(self.sim, "logs", None)
        if logs is None:
            return
        for c in task.td["containerDefinitions"]:
            if c.get("essential", True) is False:
                continue
            group = "/ecs/%s" % svc.name
            prefix = "ecs"
            lc = c.get("logConfiguration") or {}
            opts = lc.get("options") or {}
            if lc.get("logDriver") == "awslogs":
                group = opts.get("awslogs-group") or group
                prefix = opts.get("awslogs-stream-prefix") or prefix
            stream = "%s/%s/%s" % (prefix, c.get("name"), task.id)
            start = task.started_at or t
            lines = [(start, "starting %s" % c.get("image")),
                     (start + 1, "connecting to database at db:5432"),
                     (t, "panic: failed to connect to database: "
                         "connection refused"),
                     (t, "exit status 1")]
            for ts, msg in lines:
                logs.append(svc.rs.account, svc.rs.region, group, stream,
                            msg, int(ts * 1000))
            break

    def _check_alarms(self, svc, t):
        dep = svc.primary
        al = svc.config.get("alarms") or {}
        if not al.get("enable") or dep.rollout_state != "IN_PROGRESS":
            return False
        fired = [n for n in al.get("alarmNames") or []
                 if self._alarm_state(svc.rs, n) == "ALARM"]
        if not fired:
            return False
        sd = dep.sd
        if sd is not None:
            sd.alarm_status = "TRIGGERED"
            sd.triggered = fired
        reason = "ECS deployment alarm triggered: %s" % ", ".join(fired)
        self._fail_deployment(svc, dep, t, reason, "alarm detected.",
                              al.get("rollback"), "alarm")
        return True

    def _alarm_state(self, rs, name):
        return self.sim.alarm_state(rs.account, rs.region, name)

    def _fail_deployment(self, svc, dep, t, reason, short, rollback, why):
        dep.rollout_state = "FAILED"
        dep.rollout_reason = reason
        dep.updated_at = t
        svc.steady = False
        svc.event(t, "%s (deployment %s) deployment failed: %s" %
                  (svc.tag(), dep.id, short))
        sd = dep.sd
        if why == "circuit" and sd is not None:
            sd.cb_status = "TRIGGERED"
        if sd is None:
            return
        if sd.run is not None:
            if sd.status in ONGOING_SD:
                strategies.rollback(self, svc, sd, t, reason,
                                    "ROLLBACK_SUCCESSFUL" if rollback
                                    else "STOPPED")
            return
        if sd.rollback_dep is dep:
            # the rollback itself failed: nothing older to go back to
            sd.set_status("ROLLBACK_FAILED", t, reason)
            return
        if rollback and svc.last_completed is not None:
            sd.set_status("ROLLBACK_REQUESTED", t, reason)
            sd.rollback_request = reason
            self._start_rollback(svc, sd, t)
        else:
            sd.set_status("STOPPED", t, reason)

    def _start_rollback(self, svc, sd, t):
        target = svc.last_completed
        if target is None:
            sd.set_status("ROLLBACK_FAILED", t,
                          "No completed deployment to roll back to.")
            sd.rollback_request = None
            return
        failed = sd.target
        if failed.rollout_state == "IN_PROGRESS":
            failed.rollout_state = "FAILED"
            failed.rollout_reason = sd.rollback_request
            failed.updated_at = t
        svc.event(t, "%s rolling back to deployment %s." %
                  (svc.tag(), target.id))
        dep = self._new_deployment(svc, target.td, target.scenario, t,
                                   sd=sd)
        dep.revision_arn = target.revision_arn
        sd.rollback = {"reason": sd.rollback_request, "startedAt": t,
                       "serviceRevisionArn": target.revision_arn}
        sd.rollback_dep = dep
        sd.rollback_request = None
        sd.set_status("ROLLBACK_IN_PROGRESS", t)

    def _pending_rollbacks(self, svc, t):
        changed = False
        for sd in list(svc.sds):
            if sd.status == "ROLLBACK_REQUESTED" and \
                    sd.rollback_request is not None:
                self._start_rollback(svc, sd, t)
                changed = True
        return changed

    def _schedule(self, svc, t):
        primary = svc.primary
        desired = svc.desired
        primary.desired = desired
        cfg = svc.config
        max_total = desired * cfg["maximumPercent"] // 100
        min_healthy = int(math.ceil(desired * cfg["minimumHealthyPercent"] /
                                    100.0))
        changed = False
        live = [x for x in svc.tasks if x.live]
        mine = [x for x in live if x.dep is primary]
        old = [x for x in live if x.dep is not primary]
        healthy = sum(1 for x in live if x.healthy)
        stopped = []

        # surplus tasks of the primary itself (desired count went down)
        surplus = len(mine) - desired
        if surplus > 0:
            for task in sorted(mine, key=lambda x: (x.healthy,
                                                    -x.created_at)):
                if surplus <= 0:
                    break
                if task.healthy:
                    healthy -= 1
                stopped.append(task)
                surplus -= 1
            gone = set(id(x) for x in stopped)
            mine = [x for x in mine if id(x) not in gone]

        # old tasks: unhealthy ones go at once, healthy ones while the
        # minimum holds (counting the primary's healthy tasks)
        for task in sorted(old, key=lambda x: (x.healthy, x.created_at)):
            if task.healthy:
                if healthy - 1 < min_healthy:
                    continue
                healthy -= 1
            stopped.append(task)
        for task in stopped:
            self._stop_task(task, t, "Scaling activity initiated by "
                            "(deployment %s)" % primary.id)
        if stopped:
            svc.event(t, "%s has stopped %d running tasks: %s." % (
                svc.tag(), len(stopped),
                " ".join("(task %s)" % x.id for x in stopped)))
            changed = True

        # start the primary's tasks within the maximum
        if primary.rollout_state == "FAILED":
            return changed
        if t < primary.next_launch:
            return changed
        total = len(live) - len(stopped)
        n = min(desired - len(mine), max_total - total)
        return self._start_tasks(svc, primary, n, t) or changed

    def _start_tasks(self, svc, dep, n, t):
        """Starts n tasks of dep (within MAX_LIVE_TASKS)."""
        n = min(n, MAX_LIVE_TASKS - sum(1 for x in svc.tasks if x.live))
        if n <= 0:
            return False
        started = []
        for _ in range(n):
            scen = self._scenario_for_image(svc.rs, dep.td) or dep.scenario
            task = Task(svc, dep, dep.td, scen, t)
            svc.tasks.append(task)
            started.append(task)
        dep.updated_at = t
        svc.steady = False
        svc.event(t, "%s has started %d tasks: %s." % (
            svc.tag(), len(started),
            " ".join("(task %s)" % x.id for x in started)))
        return True

    def _stop_task(self, task, t, reason):
        task.desired_status = "STOPPED"
        task.stopping_at = t
        task.stopped_reason = reason
        task.stop_code = "ServiceSchedulerInitiated"
        if task.last_status in PENDINGISH:
            task.last_status = "STOPPED"
            task.stopped_at = t
            return
        task.last_status = "DEACTIVATING"
        task.exit_code = 0
        task.others_exit = 0
        task.stopped_due = t + STOP_SECONDS

    def _check_complete(self, svc, t):
        primary = svc.primary
        live = [x for x in svc.tasks if x.live]
        mine = [x for x in live if x.dep is primary]
        done = (len(mine) == svc.desired and all(x.healthy for x in mine)
                and len(mine) == len(live))
        if not done:
            return False
        changed = False
        if len(svc.deployments) > 1:
            for dep in svc.deployments[1:]:
                dep.status = "INACTIVE"
                dep.updated_at = t
            del svc.deployments[1:]
            changed = True
        if primary.rollout_state == "IN_PROGRESS":
            primary.rollout_state = "COMPLETED"
            primary.rollout_reason = "ECS deployment %s completed." % \
                primary.id
            primary.updated_at = t
            svc.last_completed = primary
            sd = primary.sd
            if sd is not None and sd.status in ONGOING_SD:
                if sd.rollback_dep is primary:
                    sd.set_status("ROLLBACK_SUCCESSFUL", t)
                else:
                    sd.set_status("SUCCESSFUL", t)
            svc.event(t, "%s (deployment %s) deployment completed." %
                      (svc.tag(), primary.id))
            rollback = sd is not None and sd.rollback_dep is primary
            for fn in self.listeners:
                fn(svc.rs.account, svc.rs.region, svc.cluster.name,
                   svc.name, primary.td, rollback)
            changed = True
        if not svc.steady:
            svc.steady = True
            svc.event(t, "%s has reached a steady state." % svc.tag())
            changed = True
        return changed

    def _trim(self, svc):
        stopped = [x for x in svc.tasks if x.last_status == "STOPPED"]
        if len(stopped) > MAX_STOPPED_TASKS:
            drop = set(id(x) for x in stopped[:len(stopped) -
                                              MAX_STOPPED_TASKS])
            svc.tasks = [x for x in svc.tasks if id(x) not in drop]

    def _new_deployment(self, svc, td, scenario, t, sd=None):
        old = svc.primary
        if old is not None:
            old.status = "ACTIVE"
            old.updated_at = t
            if sd is None and old.sd is not None and \
                    old.sd.status in ONGOING_SD:
                old.sd.set_status("STOPPED", t, "Service deployment stopped "
                                  "because a new service deployment started.")
        dep = Deployment(svc, td, scenario, t, sd)
        if sd is None:
            sources = [d for d in svc.deployments]
            dep.sd = ServiceDeployment(svc, dep, sources, t)
            svc.sds.insert(0, dep.sd)
            del svc.sds[MAX_SERVICE_DEPLOYMENTS:]
            if (svc.config.get("strategy") or "ROLLING") != "ROLLING":
                strategies.start(self, svc, dep.sd, t)
        svc.deployments.insert(0, dep)
        svc.td = td
        svc.steady = False
        return dep

    # ---- lookups

    def _cluster(self, rs, ref, create=False, t=0.0):
        name = _name_of(ref) or "default"
        cl = rs.clusters.get(name)
        if cl is None:
            if not create:
                raise AwsError("ClusterNotFoundException",
                               "Cluster not found.")
            cl = rs.clusters[name] = Cluster(rs, name, t)
        return cl

    def _service(self, rs, params, key="service"):
        cl = self._cluster(rs, params.get("cluster"))
        ref = params.get(key)
        if not ref:
            raise AwsError("InvalidParameterException",
                           "%s can not be blank." % key)
        svc = cl.services.get(_name_of(ref))
        if svc is None:
            raise AwsError("ServiceNotFoundException", "Service not found.")
        return svc

    def _td(self, rs, ref, active_only=True):
        """A task definition by family, family:revision or ARN."""
        if not ref:
            return None
        if ref.startswith("arn:"):
            ref = ref.split(":", 5)[-1]
            if not ref.startswith("task-definition/"):
                return None
            ref = ref[len("task-definition/"):]
        if ":" in ref:
            family, rev = ref.rsplit(":", 1)
            revs = rs.families.get(family) or []
            try:
                n = int(rev)
            except ValueError:
                return None
            if 1 <= n <= len(revs):
                return revs[n - 1]
            return None
        revs = rs.families.get(ref) or []
        for td in reversed(revs):
            if td["status"] == "ACTIVE" or not active_only:
                return td
        return None

    # ---- task definitions

    def op_RegisterTaskDefinition(self, rs, p, t):
        family = p.get("family")
        if not family or len(family) > 255 or not all(
                c.isalnum() or c in "-_" for c in family):
            raise AwsError("ClientException",
                           "Family contains invalid characters.")
        cds = p.get("containerDefinitions")
        if not cds or not isinstance(cds, list):
            raise AwsError("ClientException",
                           "Container list cannot be empty.")
        out = []
        mode = p.get("networkMode") or "bridge"
        for cd in cds:
            if not cd.get("name"):
                raise AwsError("ClientException",
                               "Container.name should not be null or empty.")
            if not cd.get("image"):
                raise AwsError("ClientException",
                               "Container.image should not be null or empty.")
            c = _deepcopy(cd)
            c.setdefault("cpu", 0)
            c.setdefault("essential", True)
            pms = []
            for pm in c.get("portMappings") or []:
                pm = dict(pm)
                pm.setdefault("protocol", "tcp")
                if mode == "awsvpc" and "containerPort" in pm:
                    pm.setdefault("hostPort", pm["containerPort"])
                pms.append(pm)
            c["portMappings"] = pms
            for key in ("environment", "mountPoints", "volumesFrom"):
                c.setdefault(key, [])
            c.setdefault("systemControls", [])
            out.append(c)
        revs = rs.families.setdefault(family, [])
        rev = len(revs) + 1
        req = list(p.get("requiresCompatibilities") or [])
        compat = ["EC2"]
        if mode == "awsvpc":
            compat.append("FARGATE")
        td = {
            "taskDefinitionArn": "%s:task-definition/%s:%d" % (
                rs.arn_prefix, family, rev),
            "containerDefinitions": out,
            "family": family,
            "networkMode": mode,
            "revision": rev,
            "volumes": _deepcopy(p.get("volumes") or []),
            "status": "ACTIVE",
            "placementConstraints": _deepcopy(
                p.get("placementConstraints") or []),
            "compatibilities": compat,
            "registeredAt": t,
            "registeredBy": "arn:aws:iam::%s:root" % rs.account,
        }
        # The rest of the request comes back as it was registered.
        for key in REGISTER_KEPT:
            if p.get(key) is not None:
                td[key] = _deepcopy(p[key])
        if req:
            td["requiresCompatibilities"] = req
        if "FARGATE" in req:
            if mode != "awsvpc":
                raise AwsError("ClientException", "Fargate only supports "
                               "network mode 'awsvpc'.")
            if not p.get("cpu") or not p.get("memory"):
                raise AwsError("ClientException", "Fargate requires that "
                               "'cpu' be defined at the task level.")
        tags = _deepcopy(p.get("tags") or [])
        _check_tags(tags)
        if tags and rs.account in self.deny_tag_on_create:
            # What AWS answers a role without ecs:TagResource for
            # tag-on-create (the account setting tagResourceAuthorization).
            raise AwsError("AccessDeniedException",
                           "User: arn:aws:sts::%s:assumed-role/deploy/gantry "
                           "is not authorized to perform: ecs:TagResource "
                           "on resource: %s:task-definition/%s:%d because "
                           "no identity-based policy allows the "
                           "ecs:TagResource action"
                           % (rs.account, rs.arn_prefix, family, rev))
        td["_tags"] = tags
        revs.append(td)
        return {"taskDefinition": self._td_out(td), "tags": tags}

    def _seed_task_definition(self, body):
        """/_sim/ecs/task-definition: registers a task definition given as
        JSON text (a file: RegisterTaskDefinition input, or a
        DescribeTaskDefinition answer with "taskDefinition" and "tags"),
        plus "extra" response members stored as they are (deleteRequestedAt,
        requiresAttributes...), so that clients that copy a task definition
        meet what the real API returns.  Malformed text is refused."""
        import json
        text = body.get("text")
        if not isinstance(text, str):
            raise AwsError("InvalidParameterException",
                           "task-definition needs \"text\", the task "
                           "definition as JSON text")
        try:
            doc = json.loads(text)
        except ValueError as e:
            raise AwsError("InvalidParameterException",
                           "task definition %s is not valid JSON: %s; fix "
                           "the file" % (body.get("name") or "text", e))
        if not isinstance(doc, dict):
            raise AwsError("InvalidParameterException",
                           "task definition %s is not a JSON object"
                           % (body.get("name") or "text"))
        params = doc.get("taskDefinition", doc)
        if not isinstance(params, dict):
            raise AwsError("InvalidParameterException",
                           "taskDefinition of %s is not a JSON object"
                           % (body.get("name") or "text"))
        params = {k: v for k, v in params.items()
                  if k in REGISTER_KEPT or k in (
                      "family", "containerDefinitions", "networkMode",
                      "volumes", "placementConstraints",
                      "requiresCompatibilities")}
        if doc.get("tags"):
            params["tags"] = doc["tags"]
        if body.get("family"):
            params["family"] = body["family"]
        if not body.get("account") or not body.get("region"):
            raise AwsError("InvalidParameterException",
                           "task-definition needs account and region")
        rs = self._rs(body["account"], body["region"])
        out = self.op_RegisterTaskDefinition(rs, params, float(self.sim.now()))
        td = self._td(rs, out["taskDefinition"]["taskDefinitionArn"])
        for key, value in (body.get("extra") or {}).items():
            td[key] = _deepcopy(value)
        return {"taskDefinition": self._td_out(td), "tags": td["_tags"]}

    def _td_out(self, td):
        return {k: _deepcopy(v) for k, v in td.items()
                if not k.startswith("_")}

    def op_DescribeTaskDefinition(self, rs, p, t):
        td = self._td(rs, p.get("taskDefinition"))
        if td is None:
            raise AwsError("ClientException",
                           "Unable to describe task definition.")
        out = {"taskDefinition": self._td_out(td)}
        if "TAGS" in (p.get("include") or []):
            out["tags"] = _deepcopy(td["_tags"])
        return out

    def op_ListTagsForResource(self, rs, p, t):
        arn = p.get("resourceArn") or ""
        if ":task-definition/" in arn:
            td = self._td(rs, arn, active_only=False)
            if td is not None and ":" in arn.split("/")[-1]:
                return {"tags": _deepcopy(td["_tags"])}
        elif ":service/" in arn:
            parts = arn.split(":", 5)[-1].split("/")
            if len(parts) == 3:
                cl = rs.clusters.get(parts[1])
                svc = cl.services.get(parts[2]) if cl else None
                if svc is not None:
                    return {"tags": _deepcopy(svc.tags)}
        raise AwsError("InvalidParameterException",
                       "The specified resource could not be found.")

    def op_DeregisterTaskDefinition(self, rs, p, t):
        ref = p.get("taskDefinition") or ""
        if ":" not in ref.split("/")[-1]:
            raise AwsError("ClientException", "The specified task definition "
                           "identifier is invalid. Specify a valid name or "
                           "ARN and try again.")
        td = self._td(rs, ref)
        if td is None:
            raise AwsError("ClientException",
                           "The specified task definition does not exist.")
        if td["status"] == "ACTIVE":
            td["status"] = "INACTIVE"
            td["deregisteredAt"] = t
        return {"taskDefinition": self._td_out(td)}

    def op_ListTaskDefinitions(self, rs, p, t):
        prefix = p.get("familyPrefix")
        status = p.get("status") or "ACTIVE"
        arns = []
        for family in sorted(rs.families):
            if prefix and family != prefix:
                continue
            for td in rs.families[family]:
                if status == "ALL" or td["status"] == status:
                    arns.append(td["taskDefinitionArn"])
        if p.get("sort") == "DESC":
            arns.reverse()
        return self._page(arns, p, "taskDefinitionArns")

    def _page(self, items, p, key):
        try:
            start = int(p.get("nextToken") or 0)
        except ValueError:
            raise AwsError("InvalidParameterException",
                           "Invalid nextToken.")
        size = p.get("maxResults") or 100
        out = {key: items[start:start + size]}
        if start + size < len(items):
            out["nextToken"] = str(start + size)
        return out

    # ---- clusters

    def op_CreateCluster(self, rs, p, t):
        cl = self._cluster(rs, p.get("clusterName") or "default", True, t)
        return {"cluster": self._cluster_out(cl)}

    def op_DescribeClusters(self, rs, p, t):
        clusters, failures = [], []
        for ref in p.get("clusters") or ["default"]:
            cl = rs.clusters.get(_name_of(ref))
            if cl is None:
                failures.append({"arn": ref if ref.startswith("arn:") else
                                 "%s:cluster/%s" % (rs.arn_prefix, ref),
                                 "reason": "MISSING"})
            else:
                clusters.append(self._cluster_out(cl))
        return {"clusters": clusters, "failures": failures}

    def op_ListClusters(self, rs, p, t):
        return self._page([c.arn for c in rs.clusters.values()], p,
                          "clusterArns")

    def _cluster_out(self, cl):
        tasks = [x for s in cl.services.values() for x in s.tasks if x.live]
        return {
            "clusterArn": cl.arn, "clusterName": cl.name, "status": "ACTIVE",
            "registeredContainerInstancesCount": 0,
            "runningTasksCount": sum(1 for x in tasks
                                     if x.last_status == "RUNNING"),
            "pendingTasksCount": sum(1 for x in tasks
                                     if x.last_status in PENDINGISH),
            "activeServicesCount": sum(1 for s in cl.services.values()
                                       if s.status == "ACTIVE"),
            "statistics": [], "tags": [], "settings": [],
            "capacityProviders": [], "defaultCapacityProviderStrategy": [],
        }

    # ---- services

    def op_CreateService(self, rs, p, t):
        name = p.get("serviceName")
        if not name:
            raise AwsError("InvalidParameterException",
                           "serviceName can not be blank.")
        cl = self._cluster(rs, p.get("cluster"), True, t)
        old = cl.services.get(name)
        if old is not None and old.status != "INACTIVE":
            raise AwsError("InvalidParameterException",
                           "Creation of service was not idempotent.")
        td = self._td(rs, p.get("taskDefinition"))
        if td is None:
            raise AwsError("ClientException", "TaskDefinition not found.")
        desired = p.get("desiredCount") or 0
        if not isinstance(desired, int) or desired < 0:
            raise AwsError("InvalidParameterException",
                           "desiredCount must be a non-negative integer.")
        strategies.check_load_balancers(p.get("loadBalancers") or [])
        svc = Svc(rs, cl, name, td, p, t)
        strategies.check_service(svc.config, svc.load_balancers)
        cl.services[name] = svc
        scen = self._scenario_for_service(rs, cl.name, name)
        self._new_deployment(svc, td, scen, t)
        return {"service": self._service_out(svc)}

    def op_UpdateService(self, rs, p, t):
        svc = self._service(rs, p)
        if svc.status != "ACTIVE":
            raise AwsError("ServiceNotActiveException",
                           "Service was not ACTIVE.")
        td = None
        if p.get("taskDefinition"):
            td = self._td(rs, p["taskDefinition"])
            if td is None:
                raise AwsError("ClientException", "TaskDefinition not found.")
        config = svc.config
        if p.get("deploymentConfiguration") is not None:
            config = _merge_config(svc.config, p["deploymentConfiguration"])
        lbs = svc.load_balancers
        if p.get("loadBalancers") is not None:
            strategies.check_load_balancers(p["loadBalancers"])
            lbs = p["loadBalancers"]
        strategies.check_service(config, lbs)
        svc.config = config
        if p.get("desiredCount") is not None:
            d = p["desiredCount"]
            if not isinstance(d, int) or d < 0:
                raise AwsError("InvalidParameterException",
                               "desiredCount must be a non-negative "
                               "integer.")
            if d != svc.desired:
                svc.desired = d
                svc.steady = False
        if p.get("healthCheckGracePeriodSeconds") is not None:
            svc.grace = p["healthCheckGracePeriodSeconds"]
        new = bool(p.get("forceNewDeployment"))
        if td is not None and td["taskDefinitionArn"] != \
                svc.primary.td["taskDefinitionArn"]:
            new = True
        if p.get("networkConfiguration") is not None and \
                p["networkConfiguration"] != svc.network:
            svc.network = p["networkConfiguration"]
            new = True
        if p.get("loadBalancers") is not None and \
                p["loadBalancers"] != svc.load_balancers:
            svc.load_balancers = p["loadBalancers"]
            new = True
        if p.get("platformVersion"):
            svc.platform_version = p["platformVersion"]
        if new:
            scen = self._scenario_for_service(rs, svc.cluster.name, svc.name)
            self._new_deployment(svc, td or svc.primary.td, scen, t)
        return {"service": self._service_out(svc)}

    def op_DeleteService(self, rs, p, t):
        svc = self._service(rs, p)
        if svc.desired > 0 and not p.get("force"):
            raise AwsError("InvalidParameterException", "The service cannot "
                           "be stopped while it is scaled above 0.")
        svc.desired = 0
        for task in svc.tasks:
            if task.live:
                self._stop_task(task, t, "Service %s deleted" % svc.name)
        svc.status = "DRAINING"
        out = self._service_out(svc)
        svc.status = "INACTIVE"
        svc.deployments = []
        return {"service": out}

    def op_DescribeServices(self, rs, p, t):
        cl = self._cluster(rs, p.get("cluster"))
        refs = p.get("services")
        if not refs:
            raise AwsError("InvalidParameterException",
                           "Services cannot be empty.")
        if len(refs) > 10:
            raise AwsError("InvalidParameterException",
                           "You can specify at most 10 services.")
        with_tags = "TAGS" in (p.get("include") or [])
        services, failures = [], []
        for ref in refs:
            svc = cl.services.get(_name_of(ref))
            if svc is None:
                arn = ref if ref.startswith("arn:") else \
                    "%s:service/%s/%s" % (rs.arn_prefix, cl.name, ref)
                failures.append({"arn": arn, "reason": "MISSING"})
                continue
            out = self._service_out(svc)
            if with_tags:
                out["tags"] = _deepcopy(svc.tags)
            services.append(out)
        return {"services": services, "failures": failures}

    def op_ListServices(self, rs, p, t):
        cl = self._cluster(rs, p.get("cluster"))
        arns = [s.arn for s in cl.services.values() if s.status == "ACTIVE"]
        return self._page(arns, p, "serviceArns")

    def _deployment_out(self, dep):
        running, pending = _counts(dep.tasks())
        desired = dep.desired if dep.status == "PRIMARY" else \
            len(dep.tasks())
        out = {
            "id": dep.id, "status": dep.status,
            "taskDefinition": dep.td["taskDefinitionArn"],
            "desiredCount": desired, "pendingCount": pending,
            "runningCount": running, "failedTasks": dep.failed_tasks,
            "createdAt": dep.created_at, "updatedAt": dep.updated_at,
            "rolloutState": dep.rollout_state,
            "rolloutStateReason": dep.rollout_reason,
        }
        if dep.svc.name in self.no_rollout_state:
            del out["rolloutState"], out["rolloutStateReason"]
        if dep.launch_type:
            out["launchType"] = dep.launch_type
        if dep.platform_version:
            out["platformVersion"] = dep.platform_version
        if dep.network:
            out["networkConfiguration"] = _deepcopy(dep.network)
        return out

    def _service_out(self, svc):
        live = [x for x in svc.tasks if x.live]
        running, pending = _counts(live)
        out = {
            "serviceArn": svc.arn, "serviceName": svc.name,
            "clusterArn": svc.cluster.arn,
            "loadBalancers": _deepcopy(svc.load_balancers),
            "serviceRegistries": [], "status": svc.status,
            "desiredCount": svc.desired, "runningCount": running,
            "pendingCount": pending,
            "taskDefinition": svc.td["taskDefinitionArn"],
            "deploymentConfiguration": _deepcopy(svc.config),
            "deployments": [self._deployment_out(d)
                            for d in svc.deployments],
            "roleArn": "arn:aws:iam::%s:role/aws-service-role/"
                       "ecs.amazonaws.com/AWSServiceRoleForECS" %
                       svc.rs.account,
            "events": _deepcopy(svc.events),
            "createdAt": svc.created_at,
            "placementConstraints": [], "placementStrategy": [],
            "schedulingStrategy": "REPLICA",
            "deploymentController": {"type": "ECS"},
            "createdBy": "arn:aws:iam::%s:root" % svc.rs.account,
            "enableECSManagedTags": False, "propagateTags": "NONE",
            "enableExecuteCommand": False,
        }
        if svc.launch_type:
            out["launchType"] = svc.launch_type
        if svc.capacity:
            out["capacityProviderStrategy"] = _deepcopy(svc.capacity)
        if svc.platform_version:
            out["platformVersion"] = svc.platform_version
        if svc.network:
            out["networkConfiguration"] = _deepcopy(svc.network)
        if svc.grace is not None:
            out["healthCheckGracePeriodSeconds"] = svc.grace
        if svc.sds:
            out["currentServiceDeployment"] = svc.sds[0].arn
        revs = []
        for dep in svc.deployments:
            r, pd = _counts(dep.tasks())
            revs.append({"arn": dep.revision_arn,
                         "requestedTaskCount": dep.desired
                         if dep.status == "PRIMARY" else len(dep.tasks()),
                         "runningTaskCount": r, "pendingTaskCount": pd})
        out["currentServiceRevisions"] = revs
        return out

    # ---- tasks

    def op_ListTasks(self, rs, p, t):
        cl = self._cluster(rs, p.get("cluster"))
        want = p.get("desiredStatus") or "RUNNING"
        if want not in ("RUNNING", "PENDING", "STOPPED"):
            raise AwsError("InvalidParameterException",
                           "Invalid desiredStatus.")
        services = list(cl.services.values())
        if p.get("serviceName"):
            svc = cl.services.get(_name_of(p["serviceName"]))
            if svc is None:
                raise AwsError("ServiceNotFoundException",
                               "Service not found.")
            services = [svc]
        arns = []
        for svc in services:
            for task in svc.tasks:
                if want == "PENDING":
                    ok = task.desired_status == "RUNNING" and \
                        task.last_status in PENDINGISH
                else:
                    ok = task.desired_status == want
                if not ok:
                    continue
                if p.get("family") and task.td["family"] != p["family"]:
                    continue
                if p.get("startedBy") and task.dep.id != p["startedBy"]:
                    continue
                arns.append(task.arn)
        return self._page(arns, p, "taskArns")

    def op_DescribeTasks(self, rs, p, t):
        cl = self._cluster(rs, p.get("cluster"))
        refs = p.get("tasks")
        if not refs:
            raise AwsError("InvalidParameterException",
                           "Tasks cannot be empty.")
        if len(refs) > 100:
            raise AwsError("InvalidParameterException",
                           "You can specify at most 100 tasks.")
        index = {}
        for svc in cl.services.values():
            for task in svc.tasks:
                index[task.id] = task
        tasks, failures = [], []
        for ref in refs:
            task = index.get(ref.split("/")[-1])
            if task is None:
                arn = ref if ref.startswith("arn:") else \
                    "%s:task/%s/%s" % (rs.arn_prefix, cl.name, ref)
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                tasks.append(self._task_out(task))
        return {"tasks": tasks, "failures": failures}

    def op_StopTask(self, rs, p, t):
        """A task stopped by hand (UserInitiated): the service's scheduler
        starts a replacement, and it counts as no failure."""
        cl = self._cluster(rs, p.get("cluster"))
        ref = p.get("task")
        if not ref:
            raise AwsError("InvalidParameterException",
                           "Task cannot be empty.")
        for svc in cl.services.values():
            for task in svc.tasks:
                if task.id == ref.split("/")[-1]:
                    if task.desired_status == "RUNNING":
                        self._stop_task(task, t, p.get("reason") or
                                        "Task stopped by user")
                        task.stop_code = "UserInitiated"
                    return {"task": self._task_out(task)}
        raise AwsError("InvalidParameterException",
                       "The referenced task was not found.")

    def _task_out(self, task):
        svc = task.svc
        td = task.td
        containers = []
        first = True
        for cd in td["containerDefinitions"]:
            c = {
                "containerArn": "%s:container/%s/%s/%s" % (
                    svc.rs.arn_prefix, svc.cluster.name, task.id,
                    uuid.uuid5(uuid.NAMESPACE_URL, task.id + cd["name"])),
                "taskArn": task.arn, "name": cd["name"],
                "image": cd["image"],
                "lastStatus": ("STOPPED" if task.last_status == "STOPPED"
                               else "RUNNING"
                               if task.last_status in ("RUNNING",
                                                       "DEACTIVATING",
                                                       "STOPPING")
                               else "PENDING"),
                "networkBindings": [], "networkInterfaces": [],
                "healthStatus": task.health if task.health != "UNKNOWN"
                else "UNKNOWN",
                "cpu": str(cd.get("cpu", 0)),
            }
            if task.started_at is not None:
                c["runtimeId"] = "%s-%d" % (task.id, abs(hash(cd["name"]))
                                            % 10 ** 10)
            if task.last_status == "STOPPED":
                essential = cd.get("essential", True) is not False
                code = task.exit_code if (essential and first) else \
                    task.others_exit
                if task.started_at is not None and code is not None:
                    c["exitCode"] = code
                if task.started_at is None:
                    c["reason"] = "CannotStartContainerError: task stopped" \
                        " before the container started"
            if cd.get("essential", True) is not False:
                first = False
            containers.append(c)
        out = {
            "attachments": [], "attributes": [],
            "availabilityZone": "%sa" % svc.rs.region,
            "clusterArn": svc.cluster.arn, "containers": containers,
            "createdAt": task.created_at,
            "desiredStatus": task.desired_status,
            "enableExecuteCommand": False,
            "group": "service:%s" % svc.name,
            "healthStatus": task.health, "lastStatus": task.last_status,
            "launchType": task.dep.launch_type or "EC2",
            "overrides": {"containerOverrides": [
                {"name": cd["name"]} for cd in td["containerDefinitions"]],
                "inferenceAcceleratorOverrides": []},
            "startedBy": task.dep.id, "tags": [], "taskArn": task.arn,
            "taskDefinitionArn": td["taskDefinitionArn"],
            "version": 1 + sum(x is not None for x in (
                task.pull_started, task.started_at, task.stopping_at,
                task.stopped_at)),
        }
        if td.get("cpu"):
            out["cpu"] = td["cpu"]
        if td.get("memory"):
            out["memory"] = td["memory"]
        for key, val in (("pullStartedAt", task.pull_started),
                         ("pullStoppedAt", task.pull_stopped),
                         ("startedAt", task.started_at),
                         ("connectivityAt", task.pull_started),
                         ("stoppingAt", task.stopping_at),
                         ("stoppedAt", task.stopped_at),
                         ("executionStoppedAt", task.stopped_at)):
            if val is not None:
                out[key] = val
        if task.started_at is not None:
            out["connectivity"] = "CONNECTED"
        if task.stopped_reason:
            out["stoppedReason"] = task.stopped_reason
        if task.stop_code:
            out["stopCode"] = task.stop_code
        if task.dep.platform_version:
            out["platformVersion"] = task.dep.platform_version
        return out

    # ---- service deployments

    def _all_sds(self, rs):
        for cl in rs.clusters.values():
            for svc in cl.services.values():
                for sd in svc.sds:
                    yield sd

    def _sd_by_arn(self, rs, arn):
        """The service deployment arn names (the last one, as listed), or
        ECS's ServiceDeploymentNotFoundException."""
        sd = None
        for x in self._all_sds(rs):
            if x.arn == arn:
                sd = x
        if sd is None:
            raise AwsError("ServiceDeploymentNotFoundException",
                           "Service deployment not found.")
        return sd

    def op_ListServiceDeployments(self, rs, p, t):
        svc = self._service(rs, p)
        wanted = p.get("status")
        created = p.get("createdAt") or {}
        out = []
        for sd in svc.sds:
            if wanted and sd.status not in wanted:
                continue
            if created.get("after") is not None and \
                    sd.created_at < float(created["after"]):
                continue
            if created.get("before") is not None and \
                    sd.created_at > float(created["before"]):
                continue
            out.append(self._sd_brief(sd))
        size = p.get("maxResults") or 20
        if size < 1 or size > 100:
            raise AwsError("InvalidParameterException",
                           "maxResults must be between 1 and 100.")
        return self._page(out, dict(p, maxResults=size), "serviceDeployments")

    def _sd_brief(self, sd):
        out = {
            "serviceDeploymentArn": sd.arn, "serviceArn": sd.svc.arn,
            "clusterArn": sd.svc.cluster.arn, "startedAt": sd.started_at,
            "createdAt": sd.created_at,
            "targetServiceRevisionArn": sd.target.revision_arn,
            "status": sd.status,
        }
        if sd.finished_at is not None:
            out["finishedAt"] = sd.finished_at
        if sd.status_reason:
            out["statusReason"] = sd.status_reason
        return out

    def op_DescribeServiceDeployments(self, rs, p, t):
        arns = p.get("serviceDeploymentArns")
        if not arns:
            raise AwsError("InvalidParameterException",
                           "serviceDeploymentArns cannot be empty.")
        index = {sd.arn: sd for sd in self._all_sds(rs)}
        out, failures = [], []
        for arn in arns:
            sd = index.get(arn)
            if sd is None:
                failures.append({"arn": arn, "reason": "MISSING"})
                continue
            sources, target = sd.summaries()
            d = {
                "serviceDeploymentArn": sd.arn, "serviceArn": sd.svc.arn,
                "clusterArn": sd.svc.cluster.arn,
                "createdAt": sd.created_at, "startedAt": sd.started_at,
                "updatedAt": sd.updated_at,
                "sourceServiceRevisions": sources,
                "targetServiceRevision": target,
                "status": sd.status,
                "deploymentConfiguration": _deepcopy(sd.config),
                "deploymentCircuitBreaker": {
                    "status": sd.cb_status,
                    "failureCount": sd.target.failed_tasks,
                    "threshold": circuit_breaker_threshold(
                        sd.target.desired)},
                "alarms": {"status": sd.alarm_status,
                           "alarmNames": list((sd.config.get("alarms") or
                                               {}).get("alarmNames") or []),
                           "triggeredAlarmNames": list(sd.triggered)},
            }
            if sd.finished_at is not None:
                d["finishedAt"] = sd.finished_at
            if sd.stopped_at is not None:
                d["stoppedAt"] = sd.stopped_at
            if sd.status_reason:
                d["statusReason"] = sd.status_reason
            if sd.rollback:
                d["rollback"] = dict(sd.rollback)
            strategies.sd_out(sd, d)
            out.append(d)
        return {"serviceDeployments": out, "failures": failures}

    def op_StopServiceDeployment(self, rs, p, t):
        arn = p.get("serviceDeploymentArn")
        stop = p.get("stopType") or "ROLLBACK"
        if stop not in ("ROLLBACK", "ABORT"):
            raise AwsError("InvalidParameterException",
                           "stopType must be ROLLBACK or ABORT.")
        sd = self._sd_by_arn(rs, arn)
        if sd.status in ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS",
                         "STOP_REQUESTED"):
            return {"serviceDeploymentArn": sd.arn}
        if sd.status not in ("PENDING", "IN_PROGRESS"):
            raise AwsError("ConflictException", "The service deployment is "
                           "in a terminal state (%s) and cannot be stopped."
                           % sd.status)
        svc = sd.svc
        dep = sd.target
        if sd.run is not None:
            # blue/green, linear, canary: traffic goes back to blue at
            # once, in every stage until CLEAN_UP (BAKE_TIME included)
            if stop == "ABORT":
                strategies.rollback(self, svc, sd, t, "Service deployment "
                                    "stopped by StopServiceDeployment.",
                                    "STOPPED")
            else:
                strategies.rollback(self, svc, sd, t, "Rollback requested "
                                    "by StopServiceDeployment.")
            return {"serviceDeploymentArn": sd.arn}
        if stop == "ABORT":
            sd.set_status("STOP_REQUESTED", t)
            dep.rollout_state = "FAILED"
            dep.rollout_reason = "ECS deployment %s stopped." % dep.id
            dep.updated_at = t
            sd.set_status("STOPPED", t, "Service deployment stopped by "
                          "StopServiceDeployment.")
            return {"serviceDeploymentArn": sd.arn}
        if svc.last_completed is None:
            raise AwsError("ConflictException", "The service deployment "
                           "cannot be rolled back: there is no completed "
                           "service revision to roll back to.")
        reason = "Rollback requested by StopServiceDeployment."
        dep.rollout_state = "FAILED"
        dep.rollout_reason = "ECS deployment %s stopped: rollback " \
            "requested." % dep.id
        dep.updated_at = t
        sd.rollback_request = reason
        sd.set_status("ROLLBACK_REQUESTED", t, reason)
        return {"serviceDeploymentArn": sd.arn}

    def op_ContinueServiceDeployment(self, rs, p, t):
        arn = p.get("serviceDeploymentArn")
        hook_id = p.get("hookId")
        if not arn or not hook_id:
            raise AwsError("InvalidParameterException",
                           "serviceDeploymentArn and hookId are required.")
        action = p.get("action") or "CONTINUE"
        if action not in ("CONTINUE", "ROLLBACK"):
            raise AwsError("InvalidParameterException",
                           "action must be CONTINUE or ROLLBACK.")
        sd = self._sd_by_arn(rs, arn)
        strategies.continue_deployment(self, sd.svc, sd, hook_id, action, t)
        return {"serviceDeploymentArn": sd.arn}

    def op_DescribeServiceRevisions(self, rs, p, t):
        arns = p.get("serviceRevisionArns") or []
        index = {}
        for cl in rs.clusters.values():
            for svc in cl.services.values():
                for sd in svc.sds:
                    for dep in [sd.target] + list(sd.sources):
                        index[dep.revision_arn] = dep
        out, failures = [], []
        for arn in arns:
            dep = index.get(arn)
            if dep is None:
                failures.append({"arn": arn, "reason": "MISSING"})
                continue
            svc = dep.svc
            r = {"serviceRevisionArn": dep.revision_arn,
                 "serviceArn": svc.arn, "clusterArn": svc.cluster.arn,
                 "taskDefinition": dep.td["taskDefinitionArn"],
                 "loadBalancers": _deepcopy(svc.load_balancers),
                 "serviceRegistries": [],
                 "containerImages": [
                     {"containerName": c["name"], "image": c["image"]}
                     for c in dep.td["containerDefinitions"]],
                 "guardDutyEnabled": False,
                 "createdAt": dep.revision_created}
            if dep.launch_type:
                r["launchType"] = dep.launch_type
            if dep.network:
                r["networkConfiguration"] = _deepcopy(dep.network)
            out.append(r)
        return {"serviceRevisions": out, "failures": failures}
