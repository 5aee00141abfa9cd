#!/usr/bin/env python3
"""bench/aws.py - N ecs DescribeServices calls through libgantry's AWS
client against N `/usr/bin/aws ecs describe-services` invocations, both
against the same local simulator (tests/sandbox).  Prints both medians and
the ratio.

Usage: bench/aws.py BUILDDIR SRCDIR [N]   (make bench-aws)
"""
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    build, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    libs = os.path.join(build, "sdk", ".libs")
    sandbox = os.path.join(src, "tests", "sandbox", "sandbox")
    with tempfile.TemporaryDirectory() as tmp:
        prog = os.path.join(tmp, "aws-describe")
        subprocess.run(["cc", "-O2", "-o", prog, os.path.join(src, "bench", "aws-describe.c"),
                        "-I" + os.path.join(src, "sdk", "include"), "-L" + libs, "-lgantry",
                        "-Wl,-rpath," + libs], check=True)
        sdir = os.path.join(tmp, "sandbox")
        os.mkdir(sdir)
        subprocess.run([sandbox, "start", sdir, "--no-registry", "--parent-pid",
                        str(os.getpid())], check=True)
        try:
            env = dict(os.environ)
            out = subprocess.run(["bash", "-c", ". %s/env.sh && env" % shlex.quote(sdir)],
                                 capture_output=True, text=True, check=True).stdout
            for line in out.splitlines():
                k, _, v = line.partition("=")
                if k.startswith(("AWS", "SANDBOX", "AWSSIM")):
                    env[k] = v
            for k in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
                env.pop(k, None)
            res = subprocess.run([prog, str(n)], env=env, capture_output=True, text=True,
                                 check=True)
            lib_ms = [float(x) for x in res.stdout.split()]
            cli_ms = []
            for _ in range(n):
                t0 = time.perf_counter()
                subprocess.run(["/usr/bin/aws", "ecs", "describe-services", "--cluster",
                                "bench", "--services", "api", "--endpoint-url",
                                env["AWSSIM_URL"], "--region", "ap-south-1"],
                               env=env, capture_output=True, check=True)
                cli_ms.append((time.perf_counter() - t0) * 1000.0)
        finally:
            subprocess.run([sandbox, "stop", sdir])
    lm, cm = statistics.median(lib_ms), statistics.median(cli_ms)
    print("%-44s %10s" % ("DescribeServices x %d" % n, "median ms"))
    print("%-44s %10.2f" % ("libgantry (one client, connection reused)", lm))
    print("%-44s %10.2f" % ("/usr/bin/aws ecs describe-services", cm))
    print("ratio: the AWS CLI takes %.0fx as long per call" % (cm / lm))
    return 0


if __name__ == "__main__":
    sys.exit(main())
