#!/bin/sh
# t0100: configuration loading and every class of configuration error.
. "$top_srcdir/tests/lib.sh"

# The shipped example validates (it needs only built-in stages).
run -c "$top_srcdir/etc/gantry.cfg" config check
expect_rc 0 "shipped etc/gantry.cfg"
run -c "$top_srcdir/etc/gantry.cfg" --json config check
expect_rc 0
[ "$(json_get "$TMP/out" 'd["ok"]')" = "True" ] || fail "json ok"
[ "$(json_get "$TMP/out" 'len(d["environments"])')" = "2" ] || fail "both envs checked"
ok "shipped configuration passes config check"

write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; message = ; } );
CFG
run config check
expect_rc 2
expect_err "gantry.cfg:7: syntax error"
ok "syntax error names file and line"

write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; } );
pipelines = ();
CFG
run config check
expect_rc 2
expect_err "gantry.cfg:8: unknown key 'pipelines' in gantry.cfg; did you mean 'pipeline'?"
ok "unknown top-level key with did-you-mean"

write_cfg <<'CFG'
pipeline = ( { stage = "tfx"; } );
CFG
run config check
expect_rc 2
expect_err "no plugin provides stage 'tfx'"
ok "unknown stage is a configuration error (2)"

write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; mesage = "x"; } );
CFG
run config check
expect_rc 2
expect_err "gantry.cfg:7: stage 'tfix' (tfix) has no option 'mesage'; did you mean 'message'?"
ok "unknown option with file:line and did-you-mean"

write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; seconds = "ten"; } );
CFG
run config check
expect_rc 2
expect_err "gantry.cfg:7: option 'seconds' of stage 'tfix' must be an integer, not a string"
ok "wrong option type"

write_cfg <<'CFG'
pipeline = ( { stage = "exec"; } );
CFG
run config check
expect_rc 2
expect_err "stage 'exec' (exec) needs option 'command'"
ok "missing required option"

write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; on_failure = "rollbak"; } );
CFG
run config check
expect_rc 2
expect_err "unknown on_failure policy 'rollbak'; did you mean 'rollback'?"
ok "bad on_failure policy"

write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; }, { stage = "tfix"; } );
CFG
run config check
expect_rc 2
expect_err "entry name 'tfix' is already used"
ok "duplicate entry names"

write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "deploy-step"; } );
notify = ( { plugin = "tnotify"; file = "ev"; events = ["sucess"]; } );
CFG
run config check
expect_rc 2
expect_err "unknown event 'sucess'; did you mean 'success'?"
ok "unknown notifier event"

write_cfg <<'CFG'
pipeline = ( { stage = "tnotify"; file = "x"; } );
CFG
run config check
expect_rc 2
expect_err "'tnotify' is a notifier, not a pipeline stage; move it to notify"
ok "notifier used as a stage"

# Profiles: unknown entry, unknown key, precedence, includes.
write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; name = "build"; message = "from-cfg"; seconds = 5; } );
CFG
cat > profiles/staging.cfg <<'CFG'
stages = { biuld = { message = "x"; }; };
CFG
run config check staging
expect_rc 2
expect_err "profiles/staging.cfg:1: stages.biuld: no pipeline or notify entry is named 'biuld'; did you mean 'build'?"
ok "profile names an unknown entry"

cat > profiles/staging.cfg <<'CFG'
aws = { regoin = "x"; };
CFG
run config check staging
expect_rc 2
expect_err "unknown key 'regoin' in aws; did you mean 'region'?"
ok "unknown aws key in a profile"

mkdir -p profiles/common
cat > profiles/common/aws.cfg <<'CFG'
@include "region.cfg"
CFG
echo 'region = "ap-south-1";' > profiles/common/region.cfg
cat > profiles/staging.cfg <<'CFG'
aws = {
  @include "common/aws.cfg"
  account_id = "127214192604";
};
stages = { build = { message = "from-profile"; }; };
CFG
run --json plan v1.0.0-rc.1
expect_rc 0
[ "$(json_get "$TMP/out" 'd["stages"][0]["options"]["message"]')" = "from-profile" ] || fail "profile wins over gantry.cfg"
[ "$(json_get "$TMP/out" 'd["stages"][0]["options"]["seconds"]')" = "5" ] || fail "gantry.cfg wins over default"
[ "$(json_get "$TMP/out" 'd["stages"][0]["options"]["action"]')" = "ok" ] || fail "default filled"
ok "precedence: default < gantry.cfg < profile; nested @include relative to the including file"

echo 'region = ;' > profiles/common/region.cfg
run config check staging
expect_rc 2
expect_err "profiles/common/region.cfg:1: syntax error"
ok "syntax error inside an included file names that file"

# Environments.
run plan v1.0.0-rc.1 -e stagin
expect_rc 2
expect_err "unknown environment 'stagin'"
expect_err "did you mean 'staging'?"
ok "unknown -e environment"

echo '# staging' > profiles/staging.cfg
run plan 1.0
expect_rc 2
expect_err "tag '1.0' matches no environment's tags"
ok "tag matching no environment"

run --json plan v1.0.0-rc.1
[ "$(json_get "$TMP/out" 'd["environment"]')" = "staging" ] || fail "rc tag -> staging"
run --json plan v1.0.0
[ "$(json_get "$TMP/out" 'd["environment"]')" = "production" ] || fail "plain tag -> production"
run --json plan v1.0.0 -e staging
[ "$(json_get "$TMP/out" 'd["environment"]')" = "staging" ] || fail "-e overrides"
ok "tag globs pick the environment; -e overrides"

# Interpolation.
write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; message = "v=${release.version} e=${env:GANTRY_T_X} later=${image.uri}"; } );
CFG
GANTRY_T_X=hello run --json plan v2.0.0-rc.3
expect_rc 0
[ "$(json_get "$TMP/out" 'd["stages"][0]["options"]["message"]')" = 'v=2.0.0-rc.3 e=hello later=${image.uri}' ] || fail "interpolation in plan"
ok "interpolation: context keys, env; unknown keys kept in plan"

run plan v2.0.0-rc.3
expect_rc 1
expect_err "'\${env:GANTRY_T_X}' of stage 'tfix' is not set; export GANTRY_T_X"
ok "unset \${env:...} is reported"

write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; message = "${bad ref}"; } );
CFG
run config check
expect_rc 2
expect_err "is not a valid reference"
ok "malformed reference"

# The state backend.
write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; } );
state = { backend = "s3"; };
CFG
run history
expect_rc 2
expect_err "gantry.cfg:8: unknown state backend 's3'; use \"local\" or \"aws\""
write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; } );
state = { backend = "local"; buckett = "x"; };
CFG
run config check
expect_rc 2
expect_err "unknown key 'buckett' in state; did you mean 'bucket'?"
ok "state backend errors"

# Ranges and choices (option_rules, ABI 1.1) are the core's to enforce.
FIX="$top_builddir/tests/fixtures/loader/.libs"
for so in ruled old10; do
	cp "$FIX/$so.so" "$PLUGINS/$so.so" && chmod 644 "$PLUGINS/$so.so"
done
write_cfg <<'CFG'
pipeline = ( { stage = "ruled"; count = 11; } );
CFG
run config check
expect_rc 2
expect_err "gantry.cfg:7: option 'count' of stage 'ruled' must be 1 to 10, not 11"
write_cfg <<'CFG'
pipeline = ( { stage = "ruled"; replicas = 0; } );
CFG
run config check
expect_rc 2
expect_err "gantry.cfg:7: option 'replicas' of stage 'ruled' must be at least 1, not 0"
ok "an integer outside its range is refused at config check"

write_cfg <<'CFG'
pipeline = ( { stage = "ruled"; strategy = "blue-gren"; } );
CFG
run config check
expect_rc 2
expect_err "gantry.cfg:7: option 'strategy' of stage 'ruled' must be one of 'rolling', 'blue-green' or 'canary', not 'blue-gren'; did you mean 'blue-green'?"
write_cfg <<'CFG'
pipeline = ( { stage = "ruled"; regions = [ "eu-west-1", "mars-1" ]; } );
CFG
run config check
expect_rc 2
expect_err "gantry.cfg:7: 'regions[1]' of stage 'ruled' must be one of 'eu-west-1' or 'us-east-1', not 'mars-1'"
ok "a string not among its choices is refused, in lists too"

# Refused before anything runs: the stage before it never ran.
write_cfg <<'CFG'
pipeline = ( { stage = "tfix"; log = "calls.log"; },
             { stage = "ruled"; count = 0; } );
CFG
run deploy v1.0.0-rc.1
expect_rc 2
expect_err "option 'count' of stage 'ruled' must be 1 to 10, not 0"
[ ! -e calls.log ] || fail "a stage ran although the configuration was refused"
ok "deploy refuses out-of-range values before any stage runs"

# A ${...} reference is checked once resolved, before the stage's init.
write_cfg <<'CFG'
pipeline = ( { stage = "ruled"; strategy = "${env:GANTRY_T_S}"; count = 10; regions = [ "us-east-1" ]; } );
CFG
GANTRY_T_S=canary run config check
expect_rc 0
GANTRY_T_S=canary run deploy v1.0.0-rc.1
expect_rc 0
GANTRY_T_S=big-bang run deploy v1.0.0-rc.1
expect_rc 1 "a resolved value outside the choices"
expect_err "option 'strategy' of stage 'ruled' must be one of 'rolling', 'blue-green' or 'canary', not 'big-bang'"
ok "references are checked once resolved"

# A plugin built against ABI 1.0 (no rules, shorter descriptor) still works.
write_cfg <<'CFG'
pipeline = ( { stage = "old10"; count = 99; mode = "anything"; } );
CFG
run config check
expect_rc 0
run deploy v1.0.0-rc.1
expect_rc 0
run plugins show old10
expect_rc 0
expect_out "count                int    how many times [default: 3]"
ok "an ABI 1.0 plugin loads, validates and runs as before"

# The shipped stages' ranges are the core's now: refused at config check.
write_cfg <<'CFG'
pipeline = ( { stage = "smoke"; url = "http://127.0.0.1:9/healthz"; attempts = 0; } );
CFG
run config check
expect_rc 2
expect_err "gantry.cfg:7: option 'attempts' of stage 'smoke' must be 1 to 1000, not 0"
write_cfg <<'CFG'
pipeline = ( { stage = "terraform"; dir = "infra"; parallelism = -1; } );
CFG
run config check
expect_rc 2
expect_err "gantry.cfg:7: option 'parallelism' of stage 'terraform' must be 0 to 2147483647, not -1"
ok "shipped stages' ranges are enforced by the core"

# ecs-rolling and ecr: their ranges and choices are rules too.  (docker-build's
# one rule, timeout, is wider than the core's cap on an entry's timeout.)
write_cfg <<'CFG'
pipeline = ( { stage = "ecs-rolling"; cluster = "c"; service = "s"; mode = "folow"; max_percent = 50; desired_count = -1; } );
CFG
run config check
expect_rc 2
expect_err "gantry.cfg:7: option 'mode' of stage 'ecs-rolling' must be one of 'update', 'follow' or 'continue', not 'folow'; did you mean 'follow'?"
expect_err "gantry.cfg:7: option 'max_percent' of stage 'ecs-rolling' must be 100 to 1000, not 50"
expect_err "gantry.cfg:7: option 'desired_count' of stage 'ecs-rolling' must be at least 0, not -1"
write_cfg <<'CFG'
pipeline = ( { stage = "ecs-rolling"; cluster = "c"; service = "s"; timeout = 90000; } );
CFG
run config check
expect_rc 2
expect_err "gantry.cfg:7: option 'timeout' of stage 'ecs-rolling' must be 1 to 86400, not 90000"
write_cfg <<'CFG'
pipeline = ( { stage = "ecr"; repository = "staging/api"; push = "buildah"; parallel = 33; } );
CFG
run config check
expect_rc 2
expect_err "gantry.cfg:7: option 'push' of stage 'ecr' must be one of 'native' or 'builder', not 'buildah'"
expect_err "gantry.cfg:7: option 'parallel' of stage 'ecr' must be 1 to 32, not 33"
ok "ecs-rolling and ecr ranges and choices are refused at config check"

# docker-build's builder stays init's check (t2500): "" means the first
# builder that works, and a rule's choices cannot hold "".
write_cfg <<'CFG'
pipeline = ( { stage = "docker-build"; builder = ""; } );
CFG
run config check
expect_rc 0
ok "docker-build accepts builder = \"\" (the first that works)"

# A ${...} value is held to the rule once resolved, before init.
write_cfg <<'CFG'
pipeline = ( { stage = "ecs-rolling"; cluster = "c"; service = "s"; mode = "${env:GANTRY_T_MODE}"; } );
CFG
run config check
expect_rc 0
GANTRY_T_MODE=folow run plan v1.0.0-rc.1
expect_rc 1
expect_err "stage 'ecs-rolling' cannot plan: gantry.cfg:7: option 'mode' of stage 'ecs-rolling' must be one of 'update', 'follow' or 'continue', not 'folow'"
ok "a resolved ecs-rolling mode outside its choices fails before init"
