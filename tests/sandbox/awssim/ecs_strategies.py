"""ECS-native deployment strategies for the sandbox's ECS model (ecs.py):
BLUE_GREEN, LINEAR and CANARY service deployments that walk ECS's lifecycle
stages on the simulated clock, lifecycle hooks (PAUSE and AWS_LAMBDA),
ContinueServiceDeployment, instant rollback, and the traffic split that
the listeners (traffic.py) route by.

A non-rolling service deployment is a Run on its ServiceDeployment (sd.run).
The Run is a list of phases, each a lifecycle stage with, optionally, an
action on entry (start the green tasks, shift test or production traffic,
stop the blue tasks), the hooks configured for a hook stage, and a wait (a
canary or linear step's bake time, the bake time).  A phase lasts at least
one simulated second and ends when its action is done, its hooks succeeded
(or timed out with action CONTINUE) and its wait is over:

  RECONCILE_SERVICE (only when more than one revision is active)
  PRE_SCALE_UP, SCALE_UP (green tasks healthy, and serving when traffic.py
  runs them), POST_SCALE_UP, TEST_TRAFFIC_SHIFT (test traffic -> green),
  POST_TEST_TRAFFIC_SHIFT, then per production step a phase for the
  PRE_PRODUCTION_TRAFFIC_SHIFT hooks (reported as PRODUCTION_TRAFFIC_SHIFT;
  a new hook id each step) and one that shifts (blue/green 100; canary
  canaryPercent, bake, 100; linear stepPercent more each step, bake between
  steps, none after 100), POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME
  (bakeTimeInMinutes), CLEAN_UP (blue tasks stopped) -> SUCCESSFUL.

Rollback (a hook FAILED or TIMED_OUT with ROLLBACK, ContinueServiceDeployment
ROLLBACK, StopServiceDeployment ROLLBACK, the circuit breaker or an alarm)
is instant while the blue tasks still run, BAKE_TIME included: traffic goes
back to blue, the blue revision is PRIMARY again, the green tasks stop, and
the service deployment ends ROLLBACK_SUCCESSFUL once they are gone.  With
no blue to go back to (the service's first deployment, or CLEAN_UP begun)
it ends ROLLBACK_FAILED.

Lambda hooks are not run: the simulator "invokes" the answer a test set
with /_sim/ecs/lambda-hook (default SUCCEEDED), one second after the hook
starts and again callBackDelay seconds after an IN_PROGRESS answer.

Choices where ECS does not say: hooks without timeoutConfiguration time
out after 20160 minutes (PAUSE) or 60 minutes (AWS_LAMBDA) with ROLLBACK;
the hooks of one stage run together; lifecycleHookDetails lists every hook
the deployment ran, oldest first; PAUSE hook ids are "ecs-pause-" and
Lambda hook ids "ecs-lambda-" followed by 43 URL-safe characters.
"""

import base64
import os

AwsError = None     # set by ecs.py (its AwsError class)

STRATEGIES = ("ROLLING", "BLUE_GREEN", "LINEAR", "CANARY")
HOOK_STAGES = ("RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP",
               "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
               "PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT",
               "POST_PRODUCTION_TRAFFIC_SHIFT")
NO_PAUSE_STAGES = ("TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT")
TARGET_TYPES = ("AWS_LAMBDA", "PAUSE")
HOOK_ACTIONS = ("ROLLBACK", "CONTINUE")

LINEAR_DEFAULT = {"stepPercent": 10.0, "stepBakeTimeInMinutes": 6}
CANARY_DEFAULT = {"canaryPercent": 5.0, "canaryBakeTimeInMinutes": 10}
PAUSE_TIMEOUT_MINUTES = 20160
LAMBDA_TIMEOUT_MINUTES = 60
LAMBDA_CALLBACK_SECONDS = 30
MAX_HOOKS = 100

ONGOING = ("PENDING", "IN_PROGRESS", "STOP_REQUESTED", "ROLLBACK_REQUESTED",
           "ROLLBACK_IN_PROGRESS")


def _bad(message):
    return AwsError("InvalidParameterException", message)


def _int_in(v, lo, hi, what):
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise _bad("%s must be an integer between %d and %d." % (what, lo, hi))
    return v


def _percent(v, lo, what):
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and \
        lo - 1e-9 <= v <= 100.0 + 1e-9 and \
        abs(round(v * 10) - v * 10) < 1e-6
    if not ok:
        raise _bad("%s must be a multiple of 0.1 between %.1f and 100.0."
                   % (what, lo))
    return float(round(v * 10) / 10.0)


def _check_hook(i, h):
    where = "lifecycleHooks[%d]" % i
    if not isinstance(h, dict):
        raise _bad("%s must be an object." % where)
    kind = h.get("targetType") or "AWS_LAMBDA"
    if kind not in TARGET_TYPES:
        raise _bad("%s.targetType must be AWS_LAMBDA or PAUSE." % where)
    stages = h.get("lifecycleStages")
    if not isinstance(stages, list) or not stages:
        raise _bad("%s.lifecycleStages must name at least one lifecycle "
                   "stage." % where)
    for s in stages:
        if s not in HOOK_STAGES:
            raise _bad("%s.lifecycleStages: %s is not a lifecycle stage a "
                       "hook can use (%s)." % (where, s,
                                               ", ".join(HOOK_STAGES)))
        if kind == "PAUSE" and s in NO_PAUSE_STAGES:
            raise _bad("%s: a PAUSE hook cannot be used at %s." % (where, s))
    if kind == "AWS_LAMBDA":
        if not h.get("hookTargetArn"):
            raise _bad("%s.hookTargetArn is required for an AWS_LAMBDA "
                       "hook." % where)
        if not h.get("roleArn"):
            raise _bad("%s.roleArn is required for an AWS_LAMBDA hook."
                       % where)
    elif h.get("hookTargetArn"):
        raise _bad("%s.hookTargetArn cannot be specified for a PAUSE hook."
                   % where)
    out = {"targetType": kind, "lifecycleStages": list(stages)}
    for key in ("hookTargetArn", "roleArn"):
        if h.get(key):
            if not isinstance(h[key], str):
                raise _bad("%s.%s must be a string." % (where, key))
            out[key] = h[key]
    if h.get("hookDetails") is not None:
        out["hookDetails"] = h["hookDetails"]
    tc = h.get("timeoutConfiguration")
    if tc is not None:
        if not isinstance(tc, dict):
            raise _bad("%s.timeoutConfiguration must be an object." % where)
        t = {}
        if tc.get("timeoutInMinutes") is not None:
            t["timeoutInMinutes"] = _int_in(
                tc["timeoutInMinutes"], 1, 20160,
                "%s.timeoutConfiguration.timeoutInMinutes" % where)
        if tc.get("action") is not None:
            if tc["action"] not in HOOK_ACTIONS:
                raise _bad("%s.timeoutConfiguration.action must be ROLLBACK "
                           "or CONTINUE." % where)
            t["action"] = tc["action"]
        out["timeoutConfiguration"] = t
    return out


def merge_config(cfg, new):
    """The strategy members of a deploymentConfiguration request merged
    into cfg (the service's), validated with the model's ranges."""
    if "strategy" in new and new["strategy"] is not None:
        if new["strategy"] not in STRATEGIES:
            raise _bad("strategy must be one of %s." % ", ".join(STRATEGIES))
        if new["strategy"] != cfg.get("strategy"):
            # a switch forgets the old strategy's own settings (those of
            # this request stay, and are checked below)
            for key in ("linearConfiguration", "canaryConfiguration"):
                if key not in new:
                    cfg.pop(key, None)
        cfg["strategy"] = new["strategy"]
    if new.get("bakeTimeInMinutes") is not None:
        cfg["bakeTimeInMinutes"] = _int_in(new["bakeTimeInMinutes"], 0, 1440,
                                           "bakeTimeInMinutes")
    lc = new.get("linearConfiguration")
    if lc is not None:
        if not isinstance(lc, dict):
            raise _bad("linearConfiguration must be an object.")
        out = {}
        if lc.get("stepPercent") is not None:
            out["stepPercent"] = _percent(lc["stepPercent"], 3.0,
                                          "linearConfiguration.stepPercent")
        if lc.get("stepBakeTimeInMinutes") is not None:
            out["stepBakeTimeInMinutes"] = _int_in(
                lc["stepBakeTimeInMinutes"], 0, 1440,
                "linearConfiguration.stepBakeTimeInMinutes")
        cfg["linearConfiguration"] = out
    cc = new.get("canaryConfiguration")
    if cc is not None:
        if not isinstance(cc, dict):
            raise _bad("canaryConfiguration must be an object.")
        out = {}
        if cc.get("canaryPercent") is not None:
            out["canaryPercent"] = _percent(
                cc["canaryPercent"], 0.1, "canaryConfiguration.canaryPercent")
        if cc.get("canaryBakeTimeInMinutes") is not None:
            out["canaryBakeTimeInMinutes"] = _int_in(
                cc["canaryBakeTimeInMinutes"], 0, 1440,
                "canaryConfiguration.canaryBakeTimeInMinutes")
        cfg["canaryConfiguration"] = out
    hooks = new.get("lifecycleHooks")
    if hooks is not None:
        if not isinstance(hooks, list):
            raise _bad("lifecycleHooks must be a list.")
        cfg["lifecycleHooks"] = [_check_hook(i, h)
                                 for i, h in enumerate(hooks)]
    strategy = cfg.get("strategy") or "ROLLING"
    if cfg.get("linearConfiguration") is not None and strategy != "LINEAR":
        raise _bad("linearConfiguration can only be specified with the "
                   "LINEAR deployment strategy.")
    if cfg.get("canaryConfiguration") is not None and strategy != "CANARY":
        raise _bad("canaryConfiguration can only be specified with the "
                   "CANARY deployment strategy.")
    if strategy == "BLUE_GREEN" and cfg.get("bakeTimeInMinutes") is None:
        raise _bad("bakeTimeInMinutes must be specified for the BLUE_GREEN "
                   "deployment strategy.")
    if strategy == "ROLLING" and cfg.get("lifecycleHooks"):
        raise _bad("lifecycleHooks are supported only with the BLUE_GREEN, "
                   "LINEAR and CANARY deployment strategies.")
    return cfg


ADVANCED_REQUIRED = ("alternateTargetGroupArn", "productionListenerRule",
                     "roleArn")


def check_load_balancers(lbs):
    if not isinstance(lbs, list):
        raise _bad("loadBalancers must be a list.")
    for i, lb in enumerate(lbs):
        if not isinstance(lb, dict):
            raise _bad("loadBalancers[%d] must be an object." % i)
        adv = lb.get("advancedConfiguration")
        if adv is None:
            continue
        if not isinstance(adv, dict):
            raise _bad("loadBalancers[%d].advancedConfiguration must be an "
                       "object." % i)
        for key in ADVANCED_REQUIRED:
            if not isinstance(adv.get(key), str) or not adv[key]:
                raise _bad("loadBalancers[%d].advancedConfiguration.%s is "
                           "required." % (i, key))
        if not lb.get("targetGroupArn"):
            raise _bad("loadBalancers[%d].targetGroupArn is required with "
                       "advancedConfiguration." % i)
        if adv["alternateTargetGroupArn"] == lb["targetGroupArn"]:
            raise _bad("loadBalancers[%d]: the alternate target group must "
                       "differ from targetGroupArn." % i)


def advanced(svc):
    """The service's first advancedConfiguration (with its targetGroupArn),
    or None."""
    for lb in svc.load_balancers or []:
        if isinstance(lb, dict) and lb.get("advancedConfiguration"):
            adv = dict(lb["advancedConfiguration"])
            adv["targetGroupArn"] = lb.get("targetGroupArn")
            return adv
    return None


def check_service(config, svc_lbs):
    """A non-rolling strategy needs a load balancer with
    advancedConfiguration, as ECS demands."""
    strategy = config.get("strategy") or "ROLLING"
    if strategy == "ROLLING":
        return
    if not any(isinstance(lb, dict) and lb.get("advancedConfiguration")
               for lb in svc_lbs or []):
        raise _bad("The %s deployment strategy requires a load balancer "
                   "with advancedConfiguration (alternateTargetGroupArn, "
                   "productionListenerRule, roleArn) in loadBalancers."
                   % strategy)


# --------------------------------------------------------------------------
# the run of one service deployment


def _hook_id(kind):
    raw = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    return ("ecs-pause-" if kind == "PAUSE" else "ecs-lambda-") + raw[:43]


class Hook:
    def __init__(self, spec, stage, t):
        self.spec = spec
        self.stage = stage
        self.kind = spec["targetType"]
        self.id = _hook_id(self.kind)
        tc = spec.get("timeoutConfiguration") or {}
        minutes = tc.get("timeoutInMinutes") or (
            PAUSE_TIMEOUT_MINUTES if self.kind == "PAUSE"
            else LAMBDA_TIMEOUT_MINUTES)
        self.timeout_action = tc.get("action") or "ROLLBACK"
        self.expires = t + 60 * minutes
        self.status = "AWAITING_ACTION" if self.kind == "PAUSE" \
            else "IN_PROGRESS"
        self.next_invoke = t + 1 if self.kind == "AWS_LAMBDA" else None
        self.reason = None

    @property
    def pending(self):
        return self.status in ("AWAITING_ACTION", "IN_PROGRESS")

    @property
    def passed(self):
        return self.status == "SUCCEEDED" or (
            self.status == "TIMED_OUT" and self.timeout_action == "CONTINUE")

    def out(self):
        d = {"hookId": self.id, "targetType": self.kind,
             "status": self.status, "expiresAt": self.expires,
             "timeoutAction": self.timeout_action}
        if self.spec.get("hookTargetArn"):
            d["targetArn"] = self.spec["hookTargetArn"]
        return d


class Phase:
    def __init__(self, stage, hook_stage=None, action=None, wait=0,
                 weight=None):
        self.stage = stage
        self.hook_stage = hook_stage
        self.action = action          # scale_up | test | prod | clean_up
        self.wait = wait              # seconds after entry
        self.weight = weight          # production weight of a prod step


def _production_steps(cfg):
    """[(green weight, bake seconds after the step)]"""
    strategy = cfg.get("strategy")
    if strategy == "CANARY":
        c = dict(CANARY_DEFAULT)
        c.update(cfg.get("canaryConfiguration") or {})
        if c["canaryPercent"] >= 100.0:
            return [(100.0, 0)]
        return [(c["canaryPercent"], 60 * c["canaryBakeTimeInMinutes"]),
                (100.0, 0)]
    if strategy == "LINEAR":
        c = dict(LINEAR_DEFAULT)
        c.update(cfg.get("linearConfiguration") or {})
        steps, w = [], 0.0
        while w < 100.0 - 1e-9:
            w = min(100.0, round(w + c["stepPercent"], 1))
            steps.append((w, 60 * c["stepBakeTimeInMinutes"]
                          if w < 100.0 else 0))
        return steps
    return [(100.0, 0)]


class Run:
    def __init__(self, sd, blue, reconcile, t):
        cfg = sd.config
        self.sd = sd
        self.strategy = cfg.get("strategy")
        self.blue = blue
        self.hooks = []
        self.test_weight = 0.0      # green's share of test traffic
        self.prod_weight = 0.0      # green's share of production traffic
        self.rolled_back = False
        self.stage = None
        phases = []
        if reconcile:
            phases.append(Phase("RECONCILE_SERVICE", "RECONCILE_SERVICE"))
        phases += [Phase("PRE_SCALE_UP", "PRE_SCALE_UP"),
                   Phase("SCALE_UP", action="scale_up"),
                   Phase("POST_SCALE_UP", "POST_SCALE_UP"),
                   Phase("TEST_TRAFFIC_SHIFT", "TEST_TRAFFIC_SHIFT",
                         action="test"),
                   Phase("POST_TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT")]
        for weight, bake in _production_steps(cfg):
            phases.append(Phase("PRODUCTION_TRAFFIC_SHIFT",
                                "PRE_PRODUCTION_TRAFFIC_SHIFT"))
            phases.append(Phase("PRODUCTION_TRAFFIC_SHIFT",
                                "PRODUCTION_TRAFFIC_SHIFT", action="prod",
                                wait=bake, weight=weight))
        phases += [Phase("POST_PRODUCTION_TRAFFIC_SHIFT",
                         "POST_PRODUCTION_TRAFFIC_SHIFT"),
                   Phase("BAKE_TIME",
                         wait=60 * (cfg.get("bakeTimeInMinutes") or 0)),
                   Phase("CLEAN_UP", action="clean_up")]
        self.phases = phases
        self.index = -1
        self.entered = t
        self.current = []           # hooks of the current phase

    def weights(self):
        return self.test_weight, self.prod_weight


def start(ecs, svc, sd, t):
    """Called when a service deployment of a non-rolling strategy is
    created: gives it its Run."""
    blue = svc.last_completed
    active = [d for d in svc.deployments if d is not sd.target]
    sd.run = Run(sd, blue, len(active) > 1, t)


def running(svc):
    """The service's ongoing Run, if its PRIMARY deployment has one."""
    dep = svc.primary
    sd = dep.sd if dep is not None else None
    if sd is None or getattr(sd, "run", None) is None:
        return None
    if sd.target is not dep or sd.status not in ONGOING:
        return None
    return sd.run


def _live(svc, dep):
    return [x for x in svc.tasks if x.dep is dep and x.live]


def _ready(ecs, task):
    fn = getattr(ecs, "task_ready", None)
    return True if fn is None else fn(task)


def _enter(ecs, svc, run, phase, t):
    sd = run.sd
    run.stage = phase.stage
    run.entered = t
    sd.updated_at = t
    run.current = []
    if phase.action == "test":
        run.test_weight = 100.0
    elif phase.action == "prod":
        run.prod_weight = phase.weight
        svc.event(t, "%s (service-deployment %s) shifted %g%% of production "
                  "traffic to service revision %s." % (
                      svc.tag(), sd.id, phase.weight,
                      sd.target.revision_arn))
    elif phase.action == "clean_up" and run.blue is not None:
        old = [x for x in svc.tasks if x.dep is not sd.target and x.live]
        for task in old:
            ecs._stop_task(task, t, "Scaling activity initiated by "
                           "(deployment %s)" % sd.target.id)
        if old:
            svc.event(t, "%s has stopped %d running tasks: %s." % (
                svc.tag(), len(old),
                " ".join("(task %s)" % x.id for x in old)))
    if phase.hook_stage:
        for spec in sd.config.get("lifecycleHooks") or []:
            if phase.hook_stage in spec["lifecycleStages"]:
                hook = Hook(spec, phase.hook_stage, t)
                run.current.append(hook)
                run.hooks.append(hook)
                del run.hooks[:-MAX_HOOKS]


def _phase_done(ecs, svc, run, phase, t):
    sd = run.sd
    if t < run.entered + 1 or t < run.entered + phase.wait:
        return False
    if any(not h.passed for h in run.current):
        return False
    if phase.action == "scale_up":
        green = _live(svc, sd.target)
        if len(green) < svc.desired or \
                not all(x.healthy and _ready(ecs, x) for x in green):
            return False
    if phase.action == "clean_up":
        if any(x.live for x in svc.tasks if x.dep is not sd.target):
            return False
    return True


def _lambda_answer(ecs, run, hook, t):
    """What the "Lambda function" answers this invocation (the test's
    configured answer), recorded for /_sim/ecs/lambda-invocations."""
    sd = run.sd
    arn = hook.spec.get("hookTargetArn") or ""
    answer = ecs.lambda_answer(arn)
    ecs.lambda_invocations.append({
        "functionArn": arn, "hookId": hook.id, "time": t,
        "payload": {"executionDetails": {
            "lifecycleStage": hook.stage,
            "serviceArn": sd.svc.arn,
            "targetServiceRevisionArn": sd.target.revision_arn,
            "testTrafficWeights": {sd.target.revision_arn: run.test_weight},
            "productionTrafficWeights": {
                sd.target.revision_arn: run.prod_weight}},
            "executionId": hook.id,
            "hookDetails": hook.spec.get("hookDetails")},
        "answer": answer})
    del ecs.lambda_invocations[:-200]
    return answer


def _hooks(ecs, svc, run, t):
    """Invokes due Lambda hooks and times hooks out; returns (changed,
    rollback reason or None)."""
    changed = False
    for hook in run.current:
        if not hook.pending:
            continue
        if t >= hook.expires:
            hook.status = "TIMED_OUT"
            changed = True
            if hook.timeout_action == "ROLLBACK":
                return True, "Lifecycle hook %s timed out at %s." % (
                    hook.id, hook.stage)
            continue
        if hook.kind == "AWS_LAMBDA" and t >= hook.next_invoke:
            answer = _lambda_answer(ecs, run, hook, t)
            status = answer.get("hookStatus") if isinstance(answer, dict) \
                else None
            changed = True
            if status == "SUCCEEDED":
                hook.status = "SUCCEEDED"
            elif status == "IN_PROGRESS":
                delay = answer.get("callBackDelay")
                if not isinstance(delay, int) or isinstance(delay, bool) \
                        or delay < 1:
                    delay = LAMBDA_CALLBACK_SECONDS
                hook.next_invoke = t + delay
            else:
                hook.status = "FAILED"
                why = "returned FAILED" if status == "FAILED" else \
                    "returned an invalid response"
                return True, "Lifecycle hook %s (%s) %s at %s." % (
                    hook.id, hook.spec.get("hookTargetArn"), why, hook.stage)
    return changed, None


def _launch_green(ecs, svc, dep, t):
    if t < dep.next_launch or dep.rollout_state == "FAILED":
        return False
    n = svc.desired - len(_live(svc, dep))
    return ecs._start_tasks(svc, dep, n, t) if n > 0 else False


def step(ecs, svc, t):
    """One simulated second of the service's ongoing Run; True when
    something changed."""
    run = running(svc)
    if run is None:
        return False
    sd = run.sd
    green = sd.target
    changed = False
    # tasks of neither revision (an overtaken deployment's) go
    keep = (green, run.blue)
    stray = [x for x in svc.tasks if x.live and x.dep not in keep]
    for task in stray:
        ecs._stop_task(task, t, "Scaling activity initiated by "
                       "(deployment %s)" % green.id)
        changed = True
    if run.index < 0:
        run.index = 0
        _enter(ecs, svc, run, run.phases[0], t)
        return True
    phase = run.phases[run.index]
    if phase.action == "scale_up" and _launch_green(ecs, svc, green, t):
        changed = True
    hooked, reason = _hooks(ecs, svc, run, t)
    if reason:
        rollback(ecs, svc, sd, t, reason)
        return True
    changed = changed or hooked
    if not _phase_done(ecs, svc, run, phase, t):
        return changed
    if run.index + 1 < len(run.phases):
        run.index += 1
        _enter(ecs, svc, run, run.phases[run.index], t)
        return True
    _succeed(ecs, svc, sd, t)
    return True


def _succeed(ecs, svc, sd, t):
    green = sd.target
    green.rollout_state = "COMPLETED"
    green.rollout_reason = "ECS deployment %s completed." % green.id
    green.updated_at = t
    for dep in svc.deployments[1:]:
        dep.status = "INACTIVE"
        dep.updated_at = t
    del svc.deployments[1:]
    svc.last_completed = green
    sd.set_status("SUCCESSFUL", t)
    svc.event(t, "%s (deployment %s) deployment completed." %
              (svc.tag(), green.id))
    for fn in ecs.listeners:
        fn(svc.rs.account, svc.rs.region, svc.cluster.name, svc.name,
           green.td, False)
    svc.steady = True
    svc.event(t, "%s has reached a steady state." % svc.tag())


def rollback(ecs, svc, sd, t, reason, final="ROLLBACK_SUCCESSFUL"):
    """Traffic back to blue at once, blue PRIMARY again, green stopped;
    the service deployment ends `final` once green is gone (STOPPED for
    an ABORT), or ROLLBACK_FAILED without a blue revision to go back
    to."""
    run = sd.run
    green = sd.target
    for hook in run.current:
        if hook.pending:
            hook.status = "FAILED"
    green.rollout_state = "FAILED"
    green.rollout_reason = reason
    green.updated_at = t
    blue = run.blue
    blue_alive = blue is not None and blue in svc.deployments and \
        run.stage != "CLEAN_UP"
    if not blue_alive:
        sd.set_status("ROLLBACK_FAILED" if final != "STOPPED" else "STOPPED",
                      t, reason)
        svc.event(t, "%s (service-deployment %s) rollback failed: there is "
                  "no service revision to roll back to." % (svc.tag(), sd.id))
        return
    run.rolled_back = True
    run.test_weight = 0.0
    run.prod_weight = 0.0
    gone = [x for x in svc.tasks if x.dep is green and x.live]
    for task in gone:
        ecs._stop_task(task, t, "Scaling activity initiated by "
                       "(deployment %s)" % blue.id)
    svc.event(t, "%s rolling back to deployment %s." % (svc.tag(), blue.id))
    svc.deployments.remove(blue)
    green.status = "ACTIVE"
    blue.status = "PRIMARY"
    blue.desired = svc.desired
    blue.updated_at = t
    svc.deployments.insert(0, blue)
    svc.td = blue.td
    svc.steady = False
    if final == "STOPPED":
        sd.set_status("STOPPED", t, reason)
        return
    sd.rollback = {"reason": reason, "startedAt": t,
                   "serviceRevisionArn": blue.revision_arn}
    sd.final = final
    sd.set_status("ROLLBACK_IN_PROGRESS", t, reason)


def finish_rollbacks(ecs, svc, t):
    """ROLLBACK_IN_PROGRESS -> ROLLBACK_SUCCESSFUL once the green tasks
    are gone."""
    changed = False
    for sd in svc.sds:
        if getattr(sd, "run", None) is None or \
                sd.status != "ROLLBACK_IN_PROGRESS":
            continue
        if any(x.live for x in svc.tasks if x.dep is sd.target):
            continue
        sd.set_status(sd.final, t)
        green = sd.target
        if green in svc.deployments:
            green.status = "INACTIVE"
            svc.deployments.remove(green)
        blue = sd.run.blue
        for fn in ecs.listeners:
            fn(svc.rs.account, svc.rs.region, svc.cluster.name, svc.name,
               blue.td, True)
        changed = True
    return changed


def next_due(svc, t):
    """The next simulated time the service's Run has something to do."""
    run = running(svc)
    if run is None or run.index < 0:
        return t + 1 if run is not None else None
    phase = run.phases[run.index]
    cands = [max(run.entered + 1, run.entered + phase.wait)]
    for hook in run.current:
        if hook.pending:
            cands.append(hook.expires)
            if hook.next_invoke is not None:
                cands.append(hook.next_invoke)
    return min(x for x in cands if x is not None)


def continue_deployment(ecs, svc, sd, hook_id, action, t):
    run = getattr(sd, "run", None)
    hook = None
    for h in (run.hooks if run is not None else []):
        if h.id == hook_id:
            hook = h
    if hook is None:
        raise _bad("The lifecycle hook %s was not found in service "
                   "deployment %s." % (hook_id, sd.arn))
    if sd.status != "IN_PROGRESS":
        raise _bad("The service deployment %s is %s; only an IN_PROGRESS "
                   "service deployment can be continued." % (sd.arn,
                                                             sd.status))
    if hook.kind != "PAUSE" or hook.status != "AWAITING_ACTION":
        raise _bad("The lifecycle hook %s is %s, not AWAITING_ACTION."
                   % (hook_id, hook.status))
    if action == "CONTINUE":
        hook.status = "SUCCEEDED"
        sd.updated_at = t
        return
    hook.status = "FAILED"
    rollback(ecs, svc, sd, t, "Rollback requested by "
             "ContinueServiceDeployment at %s." % hook.stage)


def sd_out(sd, d):
    """Adds the lifecycle stage and hooks to a DescribeServiceDeployments
    entry."""
    run = getattr(sd, "run", None)
    if run is None:
        return
    if run.stage is not None:
        d["lifecycleStage"] = run.stage
    d["lifecycleHookDetails"] = [h.out() for h in run.hooks]


def weigh(sd, sources, target):
    """Adds the requested traffic weights to the revision summaries."""
    run = getattr(sd, "run", None)
    if run is None:
        return
    target["requestedProductionTrafficWeight"] = run.prod_weight
    target["requestedTestTrafficWeight"] = run.test_weight
    for s in sources:
        if run.blue is not None and s.get("arn") == run.blue.revision_arn:
            s["requestedProductionTrafficWeight"] = 100.0 - run.prod_weight
            s["requestedTestTrafficWeight"] = 100.0 - run.test_weight


def routing(svc):
    """Where the service's listeners send requests now:
    {"production": [(deployment, weight %)], "test": [...]}; a deployment
    None means every live task (a rolling service)."""
    run = running(svc)
    if run is None or run.blue is None:
        everyone = [(None, 100.0)]
        if run is not None:     # first deployment: nothing before shifts
            green = run.sd.target
            return {"production": [(green, 100.0)] if run.prod_weight
                    else [],
                    "test": [(green, 100.0)] if run.test_weight else []}
        return {"production": everyone, "test": everyone}
    green = run.sd.target
    adv = advanced(svc) or {}
    test = run.test_weight if adv.get("testListenerRule") else \
        run.prod_weight
    return {"production": [(run.blue, 100.0 - run.prod_weight),
                           (green, run.prod_weight)],
            "test": [(run.blue, 100.0 - test), (green, test)]}
