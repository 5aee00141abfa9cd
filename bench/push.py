#!/usr/bin/env python3
"""push.py - the ecr stage's native push against `skopeo copy`.

Writes a 200 MB image of random data (4 uncompressed tar layers of 50 MB,
mediaType application/vnd.oci.image.layer.v1.tar) as an OCI image layout,
then pushes it to the sandbox registry (tests/sandbox: docker-registry with
basic auth, token from the simulated ECR API):

  native cold       gantry deploy, pipeline tfix (publishes image.layout and
                    image.tag) -> ecr, into an empty registry
  native re-push    the same deploy again: the tag is there with the same
                    digest, so the stage is a no-op after one manifest HEAD
  native blobs      the same image under a new tag: every blob is present
                    (a HEAD each), then the manifest PUT
  skopeo cold       skopeo copy oci:LAYOUT docker://..., into a fresh
                    registry (only when skopeo is installed)
  skopeo re-push    the same copy again

"wall" is the whole command (for gantry: start-up, config, lock, journal,
both stages); "stage" is the ecr stage's own time from the journal.

Run by hand from a configured and built tree (the tfix fixture is built by
`make check`, or `make tests/fixtures/pipeline/tfix.la`):

    python3 bench/push.py --build /path/to/build [--mb 200] [--runs 3]

Needs docker-registry and htpasswd (as the sandbox does); skopeo is
optional (Debian package skopeo).  Targets: native cold <= skopeo cold;
native re-push stage <= 0.1 s.
"""

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(HERE)
TAG = "v1.0.0"


def write_blob(layout, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = os.path.join(layout, "blobs", "sha256", digest[7:])
    with open(path, "wb") as f:
        f.write(data)
    return digest, len(data)


def make_layout(layout, total_mb, layers=4):
    """An OCI layout of `layers` uncompressed tar layers of random data."""
    os.makedirs(os.path.join(layout, "blobs", "sha256"))
    per = total_mb * 1000 * 1000 // layers
    descs = []
    for i in range(layers):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
            info = tarfile.TarInfo("data/layer%d.bin" % i)
            info.size = per
            info.mtime = 0
            t.addfile(info, io.BytesIO(os.urandom(per)))
        digest, size = write_blob(layout, buf.getvalue())
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar",
                      "digest": digest, "size": size})
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers",
                   "diff_ids": [d["digest"] for d in descs]}},
        separators=(",", ":")).encode()
    cdigest, csize = write_blob(layout, config)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": cdigest, "size": csize},
        "layers": descs}, separators=(",", ":")).encode()
    mdigest, msize = write_blob(layout, manifest)
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": mdigest, "size": msize,
            "annotations": {"org.opencontainers.image.ref.name": TAG}}]}, f)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return mdigest


class Sandbox:
    def __init__(self, root, name):
        self.dir = os.path.join(root, name)
        subprocess.run([os.path.join(SRC, "tests/sandbox/sandbox"), "start",
                        self.dir, "--parent-pid", str(os.getpid()),
                        "--max-lifetime", "900"], check=True,
                       stdout=subprocess.DEVNULL)
        out = subprocess.run(["sh", "-c", '. "$1/env.sh" && env -0', "sh",
                              self.dir], check=True, capture_output=True)
        self.env = dict(kv.split("=", 1) for kv in
                        out.stdout.decode().split("\0") if "=" in kv)
        if "SANDBOX_REGISTRY" not in self.env:
            self.stop()
            sys.exit("bench: the sandbox has no registry (docker-registry "
                     "and htpasswd are needed)")
        self.registry = self.env["SANDBOX_REGISTRY"]
        self.password = self.env["SANDBOX_REGISTRY_PASSWORD"]

    def stop(self):
        subprocess.run([os.path.join(SRC, "tests/sandbox/sandbox"), "stop",
                        self.dir])


def setup_gantry(work, build, layout, sb):
    plugins = os.path.join(work, "plugins")
    os.makedirs(plugins, exist_ok=True)
    os.chmod(plugins, 0o755)
    for so in ("plugins/.libs/ecr.so", "tests/fixtures/pipeline/.libs/tfix.so"):
        src = os.path.join(build, so)
        if not os.path.exists(src):
            sys.exit("bench: %s is missing; run make (and make "
                     "tests/fixtures/pipeline/tfix.la) in %s" % (so, build))
        dst = os.path.join(plugins, os.path.basename(so))
        shutil.copy(src, dst)
        os.chmod(dst, 0o644)
    os.makedirs(os.path.join(work, "profiles"), exist_ok=True)
    with open(os.path.join(work, "gantry.cfg"), "w") as f:
        f.write('service = "bench";\n'
                'environments = ( { name = "staging"; tags = "v*"; '
                'profile = "profiles/staging.cfg"; } );\n'
                'pipeline = (\n'
                '  { stage = "tfix"; name = "build"; outputs = '
                '["image.layout=%s", "image.tag=${env:BENCH_TAG}"]; },\n'
                '  { stage = "ecr"; }\n);\n' % layout)
    with open(os.path.join(work, "profiles", "staging.cfg"), "w") as f:
        f.write('aws = { region = "ap-south-1"; account_id = "%s"; };\n'
                'stages = { ecr = { repository = "bench/native"; '
                'create_repository = true; }; };\n'
                % sb.env["SANDBOX_STAGING_ACCOUNT"])
    env = dict(os.environ)
    env.update(sb.env)
    env.update({"AWS_ACCESS_KEY_ID": sb.env["SANDBOX_STAGING_KEY_ID"],
                "AWS_SECRET_ACCESS_KEY": sb.env["SANDBOX_STAGING_SECRET"],
                "AWS_CONFIG_FILE": os.path.join(work, "none"),
                "AWS_SHARED_CREDENTIALS_FILE": os.path.join(work, "none"),
                "GANTRY_PLUGIN_PATH": plugins,
                "GANTRY_STATE_DIR": os.path.join(work, "state"),
                "GANTRY_ACTOR": "bench"})
    return env


def gantry(build, work, env, tag):
    env = dict(env, BENCH_TAG=tag)
    t0 = time.monotonic()
    p = subprocess.run([os.path.join(build, "gantry"), "-q", "deploy", "v1.0.0"],
                       cwd=work, env=env, capture_output=True)
    wall = time.monotonic() - t0
    if p.returncode != 0:
        sys.exit("bench: gantry deploy failed (%d):\n%s"
                 % (p.returncode, p.stderr.decode()))
    journal = os.path.join(work, "state", "journal")
    newest = max((os.path.join(journal, n) for n in os.listdir(journal)),
                 key=os.path.getmtime)
    rec = json.load(open(newest))
    st = [s for s in rec["stages"] if s["name"] == "ecr"][0]
    return wall, st["finished"] - st["started"], st["outputs"]["image.digest"]


def skopeo(layout, sb, work, repo):
    # the credentials go in a private auth file, as gantry's builder push
    authdir = tempfile.mkdtemp(dir=work)
    auth = os.path.join(authdir, "auth.json")
    with open(os.open(auth, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        json.dump({"auths": {sb.registry: {"auth": base64.b64encode(
            ("AWS:" + sb.password).encode()).decode()}}}, f)
    t0 = time.monotonic()
    p = subprocess.run(["skopeo", "copy", "--quiet", "--dest-tls-verify=false",
                        "--dest-authfile", auth, "oci:%s:%s" % (layout, TAG),
                        "docker://%s/%s:%s" % (sb.registry, repo, TAG)],
                       capture_output=True)
    wall = time.monotonic() - t0
    shutil.rmtree(authdir)
    if p.returncode != 0:
        sys.exit("bench: skopeo copy failed:\n%s" % p.stderr.decode())
    return wall


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.getcwd(),
                    help="the build directory (default: the current one)")
    ap.add_argument("--mb", type=int, default=200, help="image size in MB")
    ap.add_argument("--runs", type=int, default=3,
                    help="runs of each case; the best is shown")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    work = tempfile.mkdtemp(prefix="gantry-bench-push.")
    rows = []
    try:
        layout = os.path.join(work, "layout")
        t0 = time.monotonic()
        digest = make_layout(layout, args.mb)
        print("layout: %d MB in 4 layers, %s (%.1fs to write)"
              % (args.mb, digest, time.monotonic() - t0), flush=True)
        cold, again, blobs = [], [], []
        for run in range(args.runs):
            sb = Sandbox(work, "sb-native-%d" % run)
            try:
                gw = os.path.join(work, "g%d" % run)
                os.makedirs(gw)
                env = setup_gantry(gw, build, layout, sb)
                w, s, d = gantry(build, gw, env, TAG)
                if d != digest:
                    sys.exit("bench: pushed %s, the layout is %s" % (d, digest))
                cold.append((w, s))
                again.append(gantry(build, gw, env, TAG)[:2])
                blobs.append(gantry(build, gw, env, "v1.0.1-%d" % run)[:2])
            finally:
                sb.stop()
        best = lambda l: min(l, key=lambda x: x[0])
        rows.append(("native", "cold") + best(cold))
        rows.append(("native", "re-push (tag present)") + best(again))
        rows.append(("native", "blobs present, new tag") + best(blobs))
        if shutil.which("skopeo"):
            scold, sagain = [], []
            for run in range(args.runs):
                sb = Sandbox(work, "sb-skopeo-%d" % run)
                try:
                    scold.append(skopeo(layout, sb, work, "bench/skopeo"))
                    sagain.append(skopeo(layout, sb, work, "bench/skopeo"))
                finally:
                    sb.stop()
            rows.append(("skopeo", "cold", min(scold), None))
            rows.append(("skopeo", "re-push", min(sagain), None))
        else:
            print("skopeo is not installed: no comparison (apt-get install "
                  "skopeo)", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print("%-8s %-24s %9s %9s" % ("tool", "case", "wall s", "stage s"))
    for tool, case, wall, stage in rows:
        print("%-8s %-24s %9.3f %9s" % (tool, case, wall,
              "%.3f" % stage if stage is not None else "-"))
    native_cold = rows[0][2]
    verdict = ["re-push stage %.3fs (target <= 0.100s): %s"
               % (rows[1][3], "met" if rows[1][3] <= 0.1 else "MISSED")]
    sk = [r for r in rows if r[0] == "skopeo" and r[1] == "cold"]
    if sk:
        verdict.append("cold %.3fs vs skopeo %.3fs (target <=): %s"
                       % (native_cold, sk[0][2],
                          "met" if native_cold <= sk[0][2] else "MISSED"))
    for v in verdict:
        print(v)


if __name__ == "__main__":
    main()
