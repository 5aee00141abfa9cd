# lib-awscli.sh - what the AWS CLI tests of the sandbox (t-awscli.sh,
# t-awscli-registry.sh) share: the CLI isolated from the machine's AWS
# configuration, aws/must/must_fail, registry_pid and orphan_check.
# Sourced after lib-sandbox.sh and sandbox_start.

# Nothing from the machine's own AWS configuration may take part.
export AWS_CONFIG_FILE="$T/none" AWS_SHARED_CREDENTIALS_FILE="$T/none"
export AWS_PAGER="" AWS_RETRY_MODE=standard
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_MAX_ATTEMPTS

# aws ARGS...: stdout in $T/out, stderr in $T/err, exit status in $rc.
aws() {
	/usr/bin/aws --endpoint-url "$AWSSIM_URL" --region ap-south-1 \
		--output json "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
must() { aws "$@"; [ $rc = 0 ] || fail "aws $* exited $rc"; }
# must_fail CODE ARGS...: the CLI fails and names the AWS error CODE.
must_fail() {
	code=$1; shift
	aws "$@"
	[ $rc != 0 ] || fail "aws $* succeeded, expected $code"
	has "$T/err" "An error occurred ($code)"
}

# registry_pid DIR: the docker-registry process under its guard (nothing
# when the sandbox in DIR has no registry).
registry_pid() {
	[ -f "$1/registry.pid" ] || return 0
	cat /proc/"$(cat "$1/registry.pid")"/task/*/children 2>/dev/null | tr ' ' '\n' | grep . | head -n 1
}

# orphan_check [START OPTION...]: a second sandbox started (with the
# OPTIONs) for a process that then dies stops by itself: awssim, and the
# registry and its guard when there is one.
orphan_check() {
	# (the owner lives until killed below: 600 s, not a time start must beat)
	sleep 600 &
	owner=$!
	trap 'kill "$owner" 2>/dev/null; sandbox_cleanup' EXIT
	"$SANDBOX_SRC/sandbox" start "$T/sb2" --parent-pid "$owner" "$@" >"$T/out" 2>"$T/err" ||
		fail "second sandbox start failed"
	apid=$(cat "$T/sb2/awssim.pid")
	gpid=$(cat "$T/sb2/registry.pid" 2>/dev/null)
	rpid=$(registry_pid "$T/sb2")
	case " $* " in *" --no-registry "*) ;; *)
		[ -n "$gpid" ] && [ -n "$rpid" ] || fail "the second sandbox has no registry under its guard" ;;
	esac
	kill "$owner"
	wait "$owner" 2>/dev/null
	trap sandbox_cleanup EXIT
	end=$(( $(date +%s) + 30 ))
	while { alive "$apid" || alive "$gpid" || alive "${rpid:-$gpid}"; } &&
	      [ "$(date +%s)" -lt "$end" ]; do
		sleep 0.1
	done
	! alive "$apid" && ! alive "$gpid" && ! alive "${rpid:-$gpid}" ||
		{ "$SANDBOX_SRC/sandbox" stop "$T/sb2"; fail "sandbox processes outlived their --parent-pid"; }
	"$SANDBOX_SRC/sandbox" stop "$T/sb2"
}
