#!/usr/bin/env python3
"""bench/startup.py - start-up cost of gantry's read-only commands.

Times `gantry config check` and `gantry plan --only integration-tests` on
the shipped example (etc/gantry.cfg: every plugin loaded, every profile
validated) and prints
the median wall time and peak RSS of each next to the floor: an empty C
program linked against the same libraries as gantry (libgantry, libcurl,
json-c, libconfig, libltdl), built and timed in the same run.

Usage: bench/startup.py BUILDDIR SRCDIR [RUNS]
Target (issue 2): median <= floor + 5 ms, peak RSS <= floor + 4 MB.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time


LAUNCHER_C = r"""
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
/* Runs argv once; prints "<wall ms> <peak RSS KiB> <exit>".  A small C
   parent keeps its own memory out of the child's ru_maxrss, which a
   python parent would add (fork or vfork share the parent's high-water
   mark until exec). */
int main(int argc, char **argv)
{
	struct timespec a, b;
	struct rusage ru;
	int st = 0;
	pid_t pid;

	(void)argc;
	clock_gettime(CLOCK_MONOTONIC, &a);
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[1], argv + 1);
		_exit(127);
	}
	wait4(pid, &st, 0, &ru);
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.3f %ld %d\n", (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6,
	       ru.ru_maxrss, WIFEXITED(st) ? WEXITSTATUS(st) : 128);
	return 0;
}
"""


def measure(launcher, argv, runs, env):
    walls, rss = [], []
    for _ in range(runs):
        out = subprocess.run([launcher] + argv, env=env, capture_output=True,
                             text=True, check=True).stdout.split()
        if out[2] != "0":
            sys.exit("bench: %s exited %s" % (" ".join(argv), out[2]))
        walls.append(float(out[0]))
        rss.append(int(out[1]) / 1024.0)
    return statistics.median(walls), max(rss)


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    build, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 30
    libs = os.path.join(build, "sdk", ".libs")
    binary = os.path.join(build, ".libs", "gantry")
    if not os.path.exists(binary):
        binary = os.path.join(build, "gantry")
    env = dict(os.environ, LD_LIBRARY_PATH=libs, GANTRY_STATE_DIR=tempfile.mkdtemp())
    env.pop("GANTRY_PLUGIN_PATH", None)

    with tempfile.TemporaryDirectory() as tmp:
        csrc = os.path.join(tmp, "empty.c")
        floor = os.path.join(tmp, "empty")
        with open(csrc, "w") as f:
            f.write("int main(void) { return 0; }\n")
        flags = subprocess.run(["pkg-config", "--libs", "libcurl", "json-c", "libconfig"],
                               capture_output=True, text=True, check=True).stdout.split()
        launcher = os.path.join(tmp, "launch")
        with open(launcher + ".c", "w") as f:
            f.write(LAUNCHER_C)
        subprocess.run(["cc", "-O2", "-o", launcher, launcher + ".c"], check=True)
        subprocess.run(["cc", "-O2", "-o", floor, csrc, "-Wl,--no-as-needed",
                        "-L" + libs, "-lgantry"] + flags + ["-lltdl", "-Wl,-rpath," + libs],
                       check=True)
        # Plugins copied into a private directory (the loader refuses
        # group-writable ones; build trees may have any umask).
        plugdir = os.path.join(tmp, "plugins")
        os.mkdir(plugdir, 0o755)
        for d in [os.path.join(build, "plugins", ".libs")]:
            for so in os.listdir(d):
                if so.endswith(".so"):
                    dst = os.path.join(plugdir, so)
                    with open(os.path.join(d, so), "rb") as a, open(dst, "wb") as b:
                        b.write(a.read())
                    os.chmod(dst, 0o644)
        cfg = os.path.join(src, "etc", "gantry.cfg")
        cases = [
            ("floor (empty program, same libraries)", [floor]),
            ("gantry config check", [binary, "-c", cfg, "--plugin-path", plugdir, "config", "check"]),
            # Every plugin loaded and every profile validated, one stage's
            # plan callback (exec's) in its child process.  The full plan
            # of the shipped example also runs git and terraform, whose
            # own cost would drown gantry's.
            ("gantry plan v0.1.0-rc.1 --only integration-tests",
             [binary, "-c", cfg, "--plugin-path", plugdir, "plan", "v0.1.0-rc.1",
              "--only", "integration-tests"]),
        ]
        results = []
        for name, argv in cases:
            measure(launcher, argv, 3, env)  # warm the page cache
            results.append((name,) + measure(launcher, argv, runs, env))
    fw, fr = results[0][1], results[0][2]
    print("%-40s %12s %12s %14s" % ("command (%d runs)" % runs, "median ms", "peak RSS MB", "over floor"))
    ok = True
    for name, wall, rss in results:
        over = "" if name.startswith("floor") else "+%.1f ms +%.1f MB" % (wall - fw, rss - fr)
        print("%-40s %12.1f %12.1f %14s" % (name, wall, rss, over))
        if not name.startswith("floor") and (wall - fw > 5.0 or rss - fr > 4.0):
            ok = False
    print("target: median <= floor + 5 ms, peak RSS <= floor + 4 MB: %s" % ("met" if ok else "NOT met"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
