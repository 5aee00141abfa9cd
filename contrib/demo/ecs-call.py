#!/usr/bin/env python3
"""ecs-call.py OPERATION [JSON] - one signed ECS API call to the sandbox.

  AWSSIM_URL=http://127.0.0.1:PORT AWS_ACCESS_KEY_ID=.. \\
  AWS_SECRET_ACCESS_KEY=.. python3 ecs-call.py CreateService '{"...": ..}'

Sends the JSON request body (default {}) as ECS's JSON 1.1 protocol does
(X-Amz-Target AmazonEC2ContainerServiceV20141113.OPERATION), signed with
SigV4 (AWS_SESSION_TOKEN too when set; region AWS_REGION, default
ap-south-1), to AWSSIM_URL, and prints the answer.  The demo and the
progressive-delivery benchmark create their blue/green services with it:
the AWS CLI on most machines predates ECS's blue/green members
(loadBalancers[].advancedConfiguration, deploymentConfiguration.strategy)
and refuses them.

Only an endpoint on 127.0.0.1 is accepted.  Exit 0 on a 2xx answer; 1 on
an AWS error (its type and message on stderr); 2 on bad arguments.
"""

import datetime
import hashlib
import hmac
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

TARGET = "AmazonEC2ContainerServiceV20141113."


def sign(key_id, secret, token, region, host, body, target, now):
    amzdate = now.strftime("%Y%m%dT%H%M%SZ")
    date = amzdate[:8]
    headers = {"content-type": "application/x-amz-json-1.1", "host": host,
               "x-amz-date": amzdate, "x-amz-target": target}
    if token:
        headers["x-amz-security-token"] = token
    signed = sorted(headers)
    canonical = "\n".join([
        "POST", "/", "",
        "".join("%s:%s\n" % (h, headers[h]) for h in signed),
        ";".join(signed), hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/ecs/aws4_request" % (date, region)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (date, region, "ecs", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
        % (key_id, scope, ";".join(signed), sig))
    return headers


def call(operation, params, env=None):
    """The parsed answer of one ECS call; raises RuntimeError with the AWS
    error (type: message) when it fails."""
    env = os.environ if env is None else env
    url = env.get("AWSSIM_URL", "")
    host = urllib.parse.urlsplit(url).netloc
    if not url.startswith("http://127.0.0.1:"):
        raise ValueError("AWSSIM_URL '%s' is not the sandbox's "
                         "(http://127.0.0.1:PORT); source the sandbox's "
                         "env.sh" % url)
    key_id, secret = env.get("AWS_ACCESS_KEY_ID"), \
        env.get("AWS_SECRET_ACCESS_KEY")
    if not key_id or not secret:
        raise ValueError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                         "must be set; source the sandbox's env.sh")
    body = json.dumps(params).encode()
    headers = sign(key_id, secret, env.get("AWS_SESSION_TOKEN"),
                   env.get("AWS_REGION") or "ap-south-1", host, body,
                   TARGET + operation,
                   datetime.datetime.now(datetime.timezone.utc))
    req = urllib.request.Request(url.rstrip("/") + "/", body, headers,
                                 method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        try:
            err = json.loads(e.read())
            what = "%s: %s" % (err.get("__type", "").split("#")[-1],
                               err.get("message"))
        except ValueError:
            what = "HTTP %d" % e.code
        raise RuntimeError("%s failed: %s" % (operation, what)) from None


def main(argv):
    if len(argv) not in (2, 3) or not argv[1].isalnum():
        sys.stderr.write("usage: ecs-call.py OPERATION [JSON]\n")
        return 2
    try:
        params = json.loads(argv[2]) if len(argv) == 3 else {}
    except ValueError as e:
        sys.stderr.write("ecs-call.py: the request is not JSON: %s\n" % e)
        return 2
    try:
        out = call(argv[1], params)
    except ValueError as e:
        sys.stderr.write("ecs-call.py: %s\n" % e)
        return 2
    except (RuntimeError, OSError) as e:
        sys.stderr.write("ecs-call.py: %s\n" % e)
        return 1
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
