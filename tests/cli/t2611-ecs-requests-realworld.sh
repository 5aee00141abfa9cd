#!/bin/sh
# t2611: t2610's checks on real-world task definitions (ecs-taskdef/ of
# the real-world collection, realworld_dir in tests/lib.sh): each is a
# service's starting revision in the simulator, tagged; a deploy must
# register a new revision with the old one's tags and every member it
# had, only the image changed, and every request gantry sent must match
# botocore's models.  The malformed file is refused by the simulator with
# a clear error.  Needs the Debian AWS CLI and the collection
# (GANTRY_REALWORLD).
. "$top_srcdir/tests/lib.sh"

need_realworld ecs-taskdef
files=$(ls "$RW"/*.taskdef.json "$RW"/*describe-taskdef*.json 2>/dev/null | sort)
[ -n "$files" ] || fail "no task definitions (*.taskdef.json, *describe-taskdef*.json) in $RW"

. "$top_srcdir/tests/cli/lib-ecs-requests.sh"

n=0
for f in $files; do
	n=$((n + 1))
	deploy_taskdef "$f" "td$n"
done
ok "$n real-world task definitions from $RW"

check_requests 10
