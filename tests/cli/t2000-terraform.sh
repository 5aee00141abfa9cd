#!/bin/sh
# t2000: the terraform stage against the real terraform CLI, offline
# (built-in terraform_data resources, local-exec, the local backend):
# create, no changes, update, the destroy guard, plan and apply errors,
# a held state lock, outputs (a sensitive one kept secret), workspaces,
# a missing binary, `gantry plan` changing nothing, saved plans terraform
# itself calls errored or not applyable.  (The real-world plans: t2010.)
. "$top_srcdir/tests/lib.sh"

need terraform "install Terraform >= 1.4 from hashicorp.com, or put it on PATH"

. "$top_srcdir/tests/cli/lib-terraform.sh"

# state_get DIR EXPR: a python expression on the parsed state file d.
state_get() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}
# The input of terraform_data.release in the state file $1.
release_input() {
	state_get "$1" '[r["instances"][0]["attributes"]["input"]["value"] for r in d["resources"] if r["name"] == "release"][0]'
}

SECRET_PREFIX="Zq7xK9"		# the fixture's sensitive output ends with it

# ---------------------------------------------------------------- create
fixture basic infra
write_cfg <<'CFG'
pipeline = (
  { stage = "tfix"; name = "build"; outputs = ["image.tag=v1"]; },
  { stage = "terraform"; dir = "infra"; workspace = "default"; },
  { stage = "tfix"; name = "check"; expect_ctx = "terraform.outputs.image_tag"; },
  { stage = "tfix"; name = "check-json"; expect_ctx = "terraform.outputs.settings"; },
  { stage = "tfix"; name = "check-secret"; expect_ctx = "terraform.outputs.db_password"; }
);
CFG

run plan v1.0.0-rc.1
expect_rc 0
expect_err "terraform in $TMP/infra, workspace 'default'"
expect_err "var image_tag is the image built by the deploy"
expect_err "plan: 3 to add, 0 to change, 0 to replace, 0 to destroy"
expect_err "would apply this plan"
[ ! -f infra/terraform.tfstate ] || fail "gantry plan wrote a state"
ok "plan summarises a first plan and applies nothing"

run --json deploy v1.0.0-rc.1
expect_rc 0
expect_err "plan: 3 to add, 0 to change, 0 to replace, 0 to destroy"
expect_err "Apply complete! Resources: 3 added"
expect_err "[check] terraform.outputs.image_tag = v1"
[ "$(release_input infra/terraform.tfstate)" = "v1" ] || fail "image_tag from image.tag not applied"
ok "deploy applies, with image_tag taken from the image.tag context"

rec=$(last_record)
[ "$(json_get "$rec" 'd["stages"][1]["outputs"]["terraform.outputs.image_tag"]')" = "v1" ] || fail "journal output image_tag"
[ "$(json_get "$rec" 'json.loads(d["stages"][1]["outputs"]["terraform.outputs.settings"]) == {"tag": "v1", "replicas": 2}')" = "True" ] || fail "journal output settings"
expect_err '[check-json] terraform.outputs.settings = {"replicas":2,"tag":"v1"}'
[ "$(json_get "$rec" 'd["stages"][1]["outputs"]["terraform.outputs.db_password"]')" = "***" ] || fail "journal secret output"
expect_err "[check-secret] terraform.outputs.db_password = ***"
expect_no_err "$SECRET_PREFIX"
expect_no_out "$SECRET_PREFIX"
! grep -rqF "$SECRET_PREFIX" "$STATE" || fail "the sensitive output reached the state directory"
ok "outputs published as terraform.outputs.*; the sensitive one only as a secret"

# ------------------------------------------------------------ no changes
serial=$(state_get infra/terraform.tfstate 'd["serial"]')
run deploy v1.0.0-rc.2
expect_rc 0
expect_err "no changes; apply skipped"
expect_no_err "Apply complete"
expect_err "[check] terraform.outputs.image_tag = v1"
[ "$(state_get infra/terraform.tfstate 'd["serial"]')" = "$serial" ] || fail "state written without changes"
ok "a second deploy of the same config reports no changes, still publishes outputs"

cat > profiles/staging.cfg <<'CFG'
stages = { terraform = { vars = { replica_note = "none"; }; }; };
CFG
run deploy v1.0.0-rc.2
expect_rc 0
expect_err "no changes; apply skipped"
ok "image_tag still comes from image.tag when vars sets other variables"

# ---------------------------------------------------------------- update
cat > profiles/staging.cfg <<'CFG'
stages = { terraform = { vars = { image_tag = "v2"; }; }; };
CFG
run deploy v1.0.0-rc.3
expect_rc 0
expect_err "plan: 0 to add, 1 to change, 0 to replace, 0 to destroy"
expect_err "[check] terraform.outputs.image_tag = v2"
[ "$(release_input infra/terraform.tfstate)" = "v2" ] || fail "vars not applied"
ok "vars are passed as TF_VAR_ variables and replace the image_tag default"

# ----------------------------------------------------------- plan, again
cat > profiles/staging.cfg <<'CFG'
stages = { terraform = { vars = { image_tag = "v3"; }; }; };
CFG
serial=$(state_get infra/terraform.tfstate 'd["serial"]')
run plan v1.0.0-rc.4
expect_rc 0
expect_err "plan: 0 to add, 1 to change, 0 to replace, 0 to destroy"
[ "$(release_input infra/terraform.tfstate)" = "v2" ] || fail "gantry plan applied"
[ "$(state_get infra/terraform.tfstate 'd["serial"]')" = "$serial" ] || fail "gantry plan wrote the state"
ok "gantry plan shows the summary and leaves the state alone"

# ---------------------------------------------------------- destroy guard
cat > profiles/staging.cfg <<'CFG'
stages = { terraform = { vars = { image_tag = "v2"; replica_note = "three"; }; }; };
CFG
run deploy v1.0.0-rc.5
expect_rc 1
expect_err "plan: 0 to add, 0 to change, 2 to replace, 0 to destroy"
expect_err "replace terraform_data.pinned"
expect_err "plan would destroy or replace 2 resources (terraform_data.pinned, terraform_data.pinned_copy); if that is meant, list what may be replaced in allow_replace, or set allow_destroy = true in stage 'terraform' or pass --allow-destroy"
expect_no_err "Apply complete"
[ "$(state_get infra/terraform.tfstate '[r["instances"][0]["attributes"]["triggers_replace"]["value"] for r in d["resources"] if r["name"] == "pinned"][0]')" = "none" ] || fail "guarded plan was applied"
ok "the destroy guard stops a plan that replaces resources, naming them"

run plan v1.0.0-rc.5
expect_rc 1
expect_err "plan would destroy or replace 2 resources"
ok "gantry plan shows the guard would stop the deploy"

run deploy v1.0.0-rc.6 --allow-destroy
expect_rc 0
expect_err "2 to replace"
expect_err "Apply complete! Resources: 2 added, 0 changed, 2 destroyed."
ok "--allow-destroy lets the replacement through"

cat > profiles/staging.cfg <<'CFG'
stages = { terraform = { allow_destroy = true; vars = { image_tag = "v2"; replica_note = "four"; }; }; };
CFG
run deploy v1.0.0-rc.7
expect_rc 0
expect_err "Apply complete! Resources: 2 added, 0 changed, 2 destroyed."
ok "allow_destroy = true lets the replacement through"

# allow_replace: the replacement a release always brings (an ECS task
# definition) goes through; anything else is still stopped.
cat > profiles/staging.cfg <<'CFG'
stages = { terraform = { allow_replace = [ "terraform_data.pinned" ]; vars = { image_tag = "v2"; replica_note = "five"; }; }; };
CFG
run deploy v1.0.0-rc.8
expect_rc 1
expect_err "plan: 0 to add, 0 to change, 2 to replace, 0 to destroy"
expect_err "replace terraform_data.pinned (allow_replace)"
expect_err "plan would destroy or replace 1 resource (terraform_data.pinned_copy); if that is meant"
expect_no_err "Apply complete"
ok "allow_replace lets through only the replacements it matches; the rest is still stopped"

cat > profiles/staging.cfg <<'CFG'
stages = { terraform = { allow_replace = [ "terraform_data.pinned*" ]; vars = { image_tag = "v2"; replica_note = "five"; }; }; };
CFG
run deploy v1.0.0-rc.9
expect_rc 0
expect_err "replace terraform_data.pinned_copy (allow_replace)"
expect_err "Apply complete! Resources: 2 added, 0 changed, 2 destroyed."
ok "allow_replace takes shell globs"

cat > profiles/staging.cfg <<'CFG'
stages = { terraform = { allow_replace = [ "terraform_data.x", "" ]; }; };
CFG
run deploy v1.0.0-rc.10
expect_rc 1
expect_err "allow_replace holds resource addresses as strings, e.g. \"aws_ecs_task_definition.*\"; this one is empty"
expect_err "profiles/staging.cfg:1"
ok "an empty allow_replace pattern fails the stage, naming its place"

# ---------------------------------------------------------- plan errors
fixture broken broken
write_cfg <<'CFG'
pipeline = ( { stage = "terraform"; dir = "broken"; workspace = "default"; } );
CFG
echo '# staging' > profiles/staging.cfg
run deploy v1.1.0-rc.1
expect_rc 1
expect_err "terraform plan failed in '$TMP/broken' (exit 1): Error: Unsupported argument"
ok "a plan error fails with terraform's Error line"

printf 'resource "terraform_data" "x" {\n' > broken/main.tf
run deploy v1.1.0-rc.2
expect_rc 1
expect_err "terraform init failed in '$TMP/broken' (exit 1): Error: "
expect_err "last output:"
ok "invalid HCL fails at init with terraform's Error line"

fixture apply-error applyerr
write_cfg <<'CFG'
pipeline = ( { stage = "terraform"; dir = "applyerr"; workspace = "default"; } );
CFG
run deploy v1.1.0-rc.3
expect_rc 1
expect_err "terraform apply failed in '$TMP/applyerr' (exit 1): Error: local-exec provisioner error"
ok "an apply error fails the stage"

# ------------------------------------------------------------ state lock
# The holder applies until the test creates tf.release: it holds the lock
# through every check, however long gantry takes to reach terraform (a
# 5-second apply raced gantry's init and plan).
fixture slow locked
rm -f "$TMP/tf.release"
( cd locked && terraform init -input=false -no-color >/dev/null 2>&1 &&
  exec terraform apply -auto-approve -input=false -no-color \
	-var "release_file=$TMP/tf.release" >"$TMP/bg.log" 2>&1 ) &
bg=$!
BG_PIDS="$BG_PIDS $bg"
wait_for "$TMP/bg.log" "Provisioning with 'local-exec'"
write_cfg <<'CFG'
pipeline = ( { stage = "terraform"; dir = "locked"; workspace = "default"; } );
CFG
run deploy v1.2.0-rc.1
expect_rc 1
expect_err "terraform state is locked by $(id -un)@"
expect_err "(operation OperationTypeApply, lock ID "
expect_err "wait for it, or set lock_timeout (e.g. \"300s\") in stage 'terraform'"
ok "a held state lock names its holder"

cat > profiles/staging.cfg <<'CFG'
stages = { terraform = { lock_timeout = "60s"; }; };
CFG
# The holder lets go once the deploy's terraform is waiting for the lock.
tf_waiting() { pgrep -f -- '-lock-timeout=60s' >/dev/null; }
( wait_until 60 "terraform to wait with -lock-timeout=60s" tf_waiting
  touch "$TMP/tf.release" ) &
releaser=$!
BG_PIDS="$BG_PIDS $releaser"
run deploy v1.2.0-rc.2
expect_rc 0
expect_err "no changes; apply skipped"
wait "$releaser" || fail "the lock was released before the deploy waited for it"
wait "$bg" || fail "the background apply failed: $(cat "$TMP/bg.log")"
ok "lock_timeout waits for the lock"
echo '# staging' > profiles/staging.cfg

# --------------------------------------------------------------- timeout
fixture slow slowdir
write_cfg <<'CFG'
pipeline = ( { stage = "terraform"; dir = "slowdir"; workspace = "default"; timeout = 3; vars = { seconds = "30"; }; } );
CFG
start=$(date +%s)
run deploy v1.2.0-rc.3
expect_rc 1
expect_err "terraform apply did not finish: the stage's timeout of 3s ran out"
[ $(( $(date +%s) - start )) -lt 20 ] || fail "the timeout did not stop terraform in time"
ok "the entry's timeout stops terraform"

# ------------------------------------------------------------ workspaces
fixture basic ws
write_cfg <<'CFG'
pipeline = ( { stage = "terraform"; dir = "ws"; vars = { image_tag = "w1"; }; } );
CFG
run deploy v1.3.0-rc.1
expect_rc 1
expect_err "terraform workspace 'staging' does not exist in $TMP/ws; create it or set create_workspace = true"
ok "a missing workspace (default: the environment's name) fails clearly"

cat > profiles/staging.cfg <<'CFG'
stages = { terraform = { create_workspace = true; }; };
CFG
run plan v1.3.0-rc.2
expect_rc 0
expect_err "workspace 'staging' does not exist yet; the deploy would create it"
[ ! -d ws/terraform.tfstate.d/staging ] || fail "plan created the workspace"
run deploy v1.3.0-rc.2
expect_rc 0
expect_err "creating terraform workspace 'staging'"
[ "$(release_input ws/terraform.tfstate.d/staging/terraform.tfstate)" = "w1" ] || fail "not applied in workspace staging"
[ ! -f ws/terraform.tfstate ] || fail "default workspace written"
ok "create_workspace creates the environment's workspace and applies there"

cat > profiles/staging.cfg <<'CFG'
stages = { terraform = { workspace = "blue"; create_workspace = true; }; };
CFG
run deploy v1.3.0-rc.3
expect_rc 0
[ -f ws/terraform.tfstate.d/blue/terraform.tfstate ] || fail "workspace blue not used"
echo '# staging' > profiles/staging.cfg
run deploy v1.3.0-rc.4
expect_rc 0
expect_err "no changes; apply skipped"
ok "workspace selects the state; an existing workspace is reused"

# -------------------------------------------------------- missing binary
write_cfg <<'CFG'
pipeline = ( { stage = "terraform"; dir = "infra"; workspace = "default"; binary = "no-such-terraform"; } );
CFG
run deploy v1.4.0-rc.1
expect_rc 1
expect_err "cannot run 'no-such-terraform': No such file or directory; install Terraform or set binary = "
run plan v1.4.0-rc.1
expect_rc 1
expect_err "cannot run 'no-such-terraform': No such file or directory"
ok "a missing binary is named, in deploy and in plan"

write_cfg <<'CFG'
pipeline = ( { stage = "terraform"; dir = "nowhere"; workspace = "default"; } );
CFG
run deploy v1.4.0-rc.2
expect_rc 1
expect_err "terraform directory '$TMP/nowhere' does not exist; fix option 'dir'"
ok "a missing configuration directory is named"

# ------------------------------------------------ terraform's own verdict
# A plan saved despite errors, or one terraform calls not applyable, is
# refused whatever plan's exit code said (faketf: lib-terraform.sh).
cat >"$TMP/errored.json" <<'PLAN'
{"format_version": "1.2", "applyable": false, "complete": false, "errored": true,
 "planned_values": {"root_module": {}}, "prior_state": {},
 "resource_changes": [{"address": "terraform_data.release", "mode": "managed",
   "type": "terraform_data", "name": "release",
   "change": {"actions": ["create"], "before": null, "after": {}}}]}
PLAN
sed 's/"errored": true/"errored": false/' "$TMP/errored.json" >"$TMP/not-applyable.json"
fixture basic verdict
write_cfg <<CFG
pipeline = ( { stage = "terraform"; dir = "verdict"; workspace = "default"; binary = "$TMP/faketf"; vars = { image_tag = "v1"; }; } );
CFG
echo '# staging' > profiles/staging.cfg
faketf "$TMP/errored.json"
run deploy v1.5.0-rc.1
expect_rc 1
expect_err "stage 'terraform': the saved plan is not applyable: terraform reported errors while planning (\"errored\": true in 'terraform show -json'); fix the errors terraform printed and deploy again"
expect_no_err "Apply complete"
[ ! -f verdict/terraform.tfstate ] || fail "an errored plan was applied"
run plan v1.5.0-rc.1
expect_rc 1
expect_err "the saved plan is not applyable: terraform reported errors while planning"
ok "a saved plan with \"errored\": true is refused, in deploy and in plan"

faketf "$TMP/not-applyable.json"
run deploy v1.5.0-rc.2
expect_rc 1
expect_err "stage 'terraform': the saved plan is not applyable (\"applyable\": false in 'terraform show -json', \"complete\": false); run 'terraform plan' in '$TMP/verdict' to see why, then deploy again"
expect_no_err "Apply complete"
[ ! -f verdict/terraform.tfstate ] || fail "a plan that is not applyable was applied"
ok "a saved plan with \"applyable\": false is refused"
