"""Checks AWS API requests against botocore's service models.

A request is what a client put on the wire: the JSON body of a JSON-protocol
call (ECS, ECR, CloudWatch Logs) or the form fields of a Query call (STS,
CloudWatch).  check() says what is wrong with one, by the input shape of
its operation: an unknown operation, a member the shape does not have (at
any depth: structures, lists, maps), a value of the wrong type, an enum
value the model does not list, a required member missing, a length or a
number outside min/max.

    python3 awsmodel.py CALLS.json [--user-agent PREFIX]

reads the answer of the simulator's /_sim/calls {"bodies": true} and
checks every call whose user agent starts with PREFIX (default "gantry/"):
one line per fault, exit 1 when there is one, 77 when no model is found.

The models come from the botocore that `python3` imports, the Debian
awscli's copy and the real-world collection (GANTRY_REALWORLD); of these
the one with the most operations is used.  GANTRY_AWS_MODELS may name
another directory laid out like botocore's data/ (SERVICE/VERSION/
service-2.json[.gz]).
"""

import datetime
import gzip
import json
import os
import sys

# simulator service name -> botocore model name
MODEL_NAMES = {"ecs": "ecs", "ecr": "ecr", "logs": "logs", "sts": "sts",
               "monitoring": "cloudwatch",
               "secretsmanager": "secretsmanager"}


class NoModel(Exception):
    pass


def _data_dirs():
    dirs = []
    env = os.environ.get("GANTRY_AWS_MODELS")
    if env:
        dirs.append(env)
    try:
        import botocore
        dirs.append(os.path.join(os.path.dirname(botocore.__file__), "data"))
    except ImportError:
        pass
    dirs.append("/usr/lib/python3/dist-packages/awscli/botocore/data")
    return dirs


def _load_file(path):
    if path.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            return json.load(f)
    with open(path, encoding="utf-8") as f:
        return json.load(f)


_cache = {}


def _candidates(service):
    """Every model file of service on this machine: each data directory's
    versions, and the real-world collection's copy (GANTRY_REALWORLD,
    ecs-api/botocore-SERVICE-VERSION.service-2.json)."""
    found = []
    for d in _data_dirs():
        base = os.path.join(d, service)
        if not os.path.isdir(base):
            continue
        for version in sorted(os.listdir(base), reverse=True):
            for name in ("service-2.json", "service-2.json.gz"):
                path = os.path.join(base, version, name)
                if os.path.exists(path):
                    found.append(path)
    for rw in _realworld_dirs():
        if not os.path.isdir(os.path.join(rw, "ecs-api")):
            continue
        for name in sorted(os.listdir(os.path.join(rw, "ecs-api"))):
            if (name.startswith("botocore-%s-" % service) and
                    name.endswith(".service-2.json")):
                found.append(os.path.join(rw, "ecs-api", name))
        break
    return found


def _realworld_dirs():
    """Where the real-world collection may be, as tests/lib.sh's
    realworld_dir looks: GANTRY_REALWORLD, shared/ beside the checkout,
    the workplace's copy."""
    top = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    return [d for d in (os.environ.get("GANTRY_REALWORLD"),
                        os.path.join(top, "..", "shared", "realworld"),
                        "/work/shared/realworld") if d]


def load(service):
    """The model of a botocore service name ("ecs", "cloudwatch"...): of
    the copies on this machine, the one with the most operations (the
    newest: an API only grows), so an older copy found first (Debian's
    awscli) does not call newer operations unknown."""
    if service in _cache:
        return _cache[service]
    best = None
    for path in _candidates(service):
        model = _load_file(path)
        if best is None or len(model["operations"]) > len(best["operations"]):
            model["_path"] = path
            best = model
    if best is None:
        raise NoModel("no botocore model of '%s' in %s" % (
            service, ", ".join(_data_dirs())))
    _cache[service] = best
    return best


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


class Checker:
    def __init__(self, model):
        self.model = model
        self.shapes = model["shapes"]
        self.faults = []

    def fault(self, path, text):
        self.faults.append("%s: %s" % (path or "(request)", text))

    def length_ok(self, shape, n, path, what):
        if "min" in shape and n < shape["min"]:
            self.fault(path, "%s %d is below the model's min %s"
                       % (what, n, shape["min"]))
        if "max" in shape and n > shape["max"]:
            self.fault(path, "%s %d is above the model's max %s"
                       % (what, n, shape["max"]))

    def value(self, name, v, path):
        shape = self.shapes[name]
        kind = shape["type"]
        if shape.get("document"):
            return None     # any JSON value (HookDetails)
        if kind == "structure":
            if not isinstance(v, dict):
                return self.fault(path, "%s (structure %s) expected, got %s"
                                  % ("object", name, type(v).__name__))
            members = shape.get("members", {})
            for key, sub in v.items():
                if key not in members:
                    self.fault(path + "." + key if path else key,
                               "not a member of %s" % name)
                    continue
                self.value(members[key]["shape"], sub,
                           path + "." + key if path else key)
            for key in shape.get("required", []):
                if key not in v:
                    self.fault(path, "required member '%s' of %s missing"
                               % (key, name))
        elif kind == "list":
            if not isinstance(v, list):
                return self.fault(path, "list %s expected, got %s"
                                  % (name, type(v).__name__))
            self.length_ok(shape, len(v), path, "list length")
            for i, item in enumerate(v):
                self.value(shape["member"]["shape"], item,
                           "%s[%d]" % (path, i))
        elif kind == "map":
            if not isinstance(v, dict):
                return self.fault(path, "map %s expected, got %s"
                                  % (name, type(v).__name__))
            self.length_ok(shape, len(v), path, "map size")
            for key, item in v.items():
                self.value(shape["key"]["shape"], key, "%s{key}" % path)
                self.value(shape["value"]["shape"], item,
                           "%s[%s]" % (path, json.dumps(key)))
        elif kind == "string":
            if not isinstance(v, str):
                return self.fault(path, "string expected, got %s"
                                  % json.dumps(v))
            if "enum" in shape and v not in shape["enum"]:
                self.fault(path, "%s is not one of %s's values (%s)"
                           % (json.dumps(v), name, ", ".join(shape["enum"])))
            self.length_ok(shape, len(v), path, "length")
        elif kind in ("integer", "long"):
            if not _is_int(v):
                return self.fault(path, "%s expected, got %s"
                                  % (kind, json.dumps(v)))
            self.length_ok(shape, v, path, "value")
        elif kind in ("double", "float"):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                return self.fault(path, "number expected, got %s"
                                  % json.dumps(v))
            self.length_ok(shape, v, path, "value")
        elif kind == "boolean":
            if not isinstance(v, bool):
                self.fault(path, "boolean expected, got %s" % json.dumps(v))
        elif kind == "timestamp":
            if isinstance(v, bool) or not isinstance(v, (int, float, str)):
                self.fault(path, "timestamp expected, got %s"
                           % json.dumps(v))
        elif kind == "blob":
            if not isinstance(v, str):
                self.fault(path, "blob (base64 text) expected")
        else:
            self.fault(path, "shape type %s is not checked" % kind)


def _unflatten(model, name, fields, prefix):
    """The Query form fields under prefix, read back into the JSON value
    of shape name (lists as X.member.N, maps as X.entry.N.key/value);
    unknown fields are reported by the caller."""
    shape = model["shapes"][name]
    kind = shape["type"]
    used = set()
    if kind == "structure":
        out = {}
        for key, m in shape.get("members", {}).items():
            sub = prefix + "." + key if prefix else key
            if sub in fields or any(f.startswith(sub + ".") for f in fields):
                out[key], u = _unflatten(model, m["shape"], fields, sub)
                used |= u
        return out, used
    if kind == "list":
        out, i = [], 1
        while True:
            sub = "%s.member.%d" % (prefix, i)
            if sub not in fields and not any(f.startswith(sub + ".")
                                             for f in fields):
                break
            v, u = _unflatten(model, shape["member"]["shape"], fields, sub)
            out.append(v)
            used |= u
            i += 1
        if not out and prefix in fields:
            used.add(prefix)     # "X=" is an empty list
        return out, used
    if kind == "map":
        out, i = {}, 1
        while "%s.entry.%d.key" % (prefix, i) in fields:
            k = fields["%s.entry.%d.key" % (prefix, i)]
            v, u = _unflatten(model, shape["value"]["shape"], fields,
                              "%s.entry.%d.value" % (prefix, i))
            out[k] = v
            used |= u | {"%s.entry.%d.key" % (prefix, i)}
            i += 1
        return out, used
    text = fields.get(prefix)
    used.add(prefix)
    if kind in ("integer", "long"):
        try:
            return int(text), used
        except ValueError:
            return text, used
    if kind in ("double", "float"):
        try:
            return float(text), used
        except ValueError:
            return text, used
    if kind == "boolean":
        return {"true": True, "false": False}.get(text, text), used
    if kind == "timestamp":
        try:
            datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
            return text, used
        except ValueError:
            return None, used
    return text, used


def check(service, operation, params, query=None):
    """The faults of one request (a list of "path: what" lines; empty when
    the request matches the model).  service is the simulator's name or
    botocore's; params the JSON body, or the Query form fields without
    Action and Version (query true; by default the model's protocol
    says)."""
    model = load(MODEL_NAMES.get(service, service))
    op = model["operations"].get(operation)
    if op is None:
        return ["operation %s is not in %s" % (operation, model["_path"])]
    c = Checker(model)
    name = op.get("input", {}).get("shape")
    if query is None:
        query = model["metadata"]["protocol"] == "query"
    if name is None:
        if params:
            c.fault("", "%s takes no input" % operation)
        return c.faults
    if query:
        if not isinstance(params, dict):
            return ["the Query request is not a set of form fields"]
        value, used = _unflatten(model, name, params, "")
        for field in sorted(set(params) - used):
            c.fault(field, "not a field of %s" % name)
        c.value(name, value, "")
        return c.faults
    if not isinstance(params, dict):
        return ["the body is not a JSON object: %r" % (params,)]
    c.value(name, params, "")
    return c.faults


def check_output(service, operation, response):
    """The faults of one response (the JSON answer of a JSON-protocol
    operation) against the output shape of its operation: members at
    every depth, types, enums, the members the shapes require."""
    model = load(MODEL_NAMES.get(service, service))
    op = model["operations"].get(operation)
    if op is None:
        return ["operation %s is not in %s" % (operation, model["_path"])]
    c = Checker(model)
    name = op.get("output", {}).get("shape")
    if name is None:
        if response:
            c.fault("", "%s has no output" % operation)
        return c.faults
    c.value(name, response, "")
    return c.faults


def check_calls(calls, user_agent="gantry/"):
    """(checked, faults) for the recorded calls whose user agent starts
    with user_agent; faults as "service.Operation path: what"."""
    checked, faults = 0, []
    for call in calls:
        if not (call.get("user_agent") or "").startswith(user_agent):
            continue
        if call.get("service") is None or "params" not in call:
            continue
        checked += 1
        for f in check(call["service"], call["operation"], call["params"],
                       call.get("protocol") == "query"):
            faults.append("%s.%s %s" % (call["service"], call["operation"],
                                        f))
    return checked, faults


def main(argv):
    import argparse
    p = argparse.ArgumentParser(prog="awsmodel")
    p.add_argument("calls", help="the answer of /_sim/calls {\"bodies\": true}")
    p.add_argument("--user-agent", default="gantry/")
    p.add_argument("--min", type=int, default=1,
                   help="fail when fewer calls than this were checked")
    a = p.parse_args(argv)
    with open(a.calls, encoding="utf-8") as f:
        calls = json.load(f)["calls"]
    try:
        checked, faults = check_calls(calls, a.user_agent)
    except NoModel as e:
        print("SKIP: %s" % e)
        return 77
    ops = sorted({"%s.%s" % (c["service"], c["operation"]) for c in calls
                  if (c.get("user_agent") or "").startswith(a.user_agent)})
    for f in faults:
        print(f)
    print("%d request%s checked against the models (%s), %d fault%s"
          % (checked, "" if checked == 1 else "s", ", ".join(ops),
             len(faults), "" if len(faults) == 1 else "s"))
    if checked < a.min:
        print("fewer than %d requests from %s were recorded"
              % (a.min, a.user_agent))
        return 1
    return 1 if faults else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
