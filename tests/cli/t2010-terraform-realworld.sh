#!/bin/sh
# t2010: the terraform stage's plan summary on real-world saved plans
# (terraform-plan/ of the real-world collection, realworld_dir in
# tests/lib.sh): the summary of each matches its resource_changes, a plan
# that would destroy or replace stops the deploy, and a plan terraform
# itself calls errored or not applyable is refused.  Needs terraform and
# the collection (GANTRY_REALWORLD).
. "$top_srcdir/tests/lib.sh"

need terraform "install Terraform >= 1.4 from hashicorp.com, or put it on PATH"
need_realworld terraform-plan

. "$top_srcdir/tests/cli/lib-terraform.sh"

fixture basic verdict
write_cfg <<CFG
pipeline = ( { stage = "terraform"; dir = "verdict"; workspace = "default"; binary = "$TMP/faketf"; vars = { image_tag = "v1"; }; } );
CFG

n=0
for p in "$RW"/*.json; do
	[ -f "$p" ] || fail "no plans (*.json) in $RW"
	n=$((n + 1))
	base=$(basename "$p")
	faketf "$p"
	run plan v1.5.0-rc.3
	if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d.get("errored") or d.get("applyable") is False else 1)' "$p"; then
		expect_rc 1
		expect_err "the saved plan is not applyable"
		expect_no_err "] plan: "
		ok "$base: refused (not applyable)"
		continue
	fi
	want=$(python3 - "$p" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
n = {"add": 0, "change": 0, "replace": 0, "destroy": 0}
for rc in d.get("resource_changes") or []:
    a = rc["change"]["actions"]
    k = {("create",): "add", ("update",): "change", ("delete",): "destroy",
         ("delete", "create"): "replace", ("create", "delete"): "replace"}.get(tuple(a))
    if k:
        n[k] += 1
print("plan: %(add)d to add, %(change)d to change, %(replace)d to replace, %(destroy)d to destroy" % n)
PY
)
	expect_err "$want"
	case $want in
	*" 0 to replace, 0 to destroy") expect_rc 0 ;;
	*) expect_rc 1; expect_err "plan would destroy or replace" ;;
	esac
	ok "$base: $want"
done
ok "$n real-world plans from $RW"
