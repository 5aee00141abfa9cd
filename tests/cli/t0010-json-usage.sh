#!/bin/sh
# t0010: --json on every path prints exactly one JSON document on stdout:
# usage errors (wherever --json stands on the line) get the error
# document of the other failures with exit 2, and help is a document.
. "$top_srcdir/tests/lib.sh"

# one_doc: stdout is exactly one JSON document (json.load refuses more).
one_doc() {
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/out" ||
		fail "stdout is not exactly one JSON document ($*)"
}
# usage_doc WHAT ERROR: exit 2 and the error document quoting ERROR.
usage_doc() {
	expect_rc 2 "$1"
	one_doc "$1"
	[ "$(json_get "$TMP/out" 'd["ok"] is False and d["exit_code"] == 2 and isinstance(d["command"], str)')" = True ] ||
		fail "not an error document ($1)"
	python3 -c 'import json,sys; sys.exit(sys.argv[2] not in json.load(open(sys.argv[1]))["error"])' \
		"$TMP/out" "$2" || fail "error lacks: $2 ($1)"
}

run --json --bogus version
usage_doc "unknown option" "unknown option '--bogus'"
run --bogus version --json
usage_doc "unknown option before --json" "unknown option '--bogus'"
run history --bogus --json
usage_doc "unknown option after the command" "unknown option '--bogus'"
run --json -c
usage_doc "option without its value" "option '-c' needs a value"
run deploy v1.0.0 --only --json
expect_rc 2 "--json taken as --only's value"
ok "unknown options and missing option values print an error document, --json anywhere"

run --json frobnicate
usage_doc "unknown command" "unknown command 'frobnicate'"
run deplyo v1.0.0 --json
usage_doc "unknown command, did you mean" "did you mean 'deploy'?"
run --json
usage_doc "no command" "needs a command"
ok "unknown and missing commands print an error document"

run --json deploy
usage_doc "deploy without TAG" "'deploy' needs a release TAG"
run history --dry-run --json
usage_doc "deploy flags elsewhere" "deploy options given to 'history'"
run --json config
usage_doc "config without check" "unknown config command"
run --json plugins show
usage_doc "plugins show without NAME" "'plugins show' needs a plugin NAME"
run --json batch
usage_doc "batch without FILE" "'batch' needs a batch FILE"
run --json -j 0 batch x.cfg
usage_doc "bad -j" "-j needs how many deploys"
run --json status a b
usage_doc "extra argument" "unexpected argument 'b'"
ok "missing and extra arguments print an error document"

run --json help
expect_rc 0
one_doc "help"
[ "$(json_get "$TMP/out" 'set(["deploy", "plan", "rollback", "batch", "history", "status", "lock", "unlock", "plugins", "config", "report", "version", "help"]) <= set(c["name"] for c in d["commands"])')" = True ] ||
	fail "help lists the commands"
commands=$(json_get "$TMP/out" '" ".join(c["name"] for c in d["commands"])')
[ "$(json_get "$TMP/out" 'all(c["usage"].startswith("gantry " + c["name"]) and c["summary"] for c in d["commands"])')" = True ] ||
	fail "every command has usage and summary"
[ "$(json_get "$TMP/out" '"exit codes:" in d["text"]')" = True ] || fail "help text"
run --help --json
expect_rc 0
one_doc "--help"
ok "--json help is a document of the commands"

for c in $commands; do
	run --json help $c
	expect_rc 0 "help $c"
	one_doc "help $c"
	[ "$(json_get "$TMP/out" "d['command'] == '$c' and d['usage'].startswith('gantry $c') and 'usage: gantry $c' in d['help']")" = True ] ||
		fail "help $c document"
	run $c --help --json
	expect_rc 0 "$c --help"
	one_doc "$c --help"
done
run --json help nosuch
usage_doc "help for an unknown command" "unknown command 'nosuch'"
ok "--json help COMMAND documents one command"
