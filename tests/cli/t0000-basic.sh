#!/bin/sh
# t0000: version, help, usage errors and their exit codes.
. "$top_srcdir/tests/lib.sh"

run version
expect_rc 0
expect_out "gantry 0.1.0 (plugin ABI 1.1)"
ok "version prints package and ABI versions"

run --json version
expect_rc 0
[ "$(json_get "$TMP/out" 'd["abi"]')" = "1.1" ] || fail "json abi"
ok "--json version is one JSON document"

run --help
expect_rc 0
expect_out "exit codes:"
expect_out "6 locked by another deploy"
ok "--help documents commands and exit codes"

for c in deploy plan history status lock unlock plugins config; do
	run help $c
	expect_rc 0 "help $c"
	expect_out "usage: gantry $c"
	run $c --help
	expect_rc 0 "$c --help"
	expect_out "usage: gantry $c"
done
ok "every command has --help"

run deplyo v1.0.0
expect_rc 2
expect_err "unknown command 'deplyo'; did you mean 'deploy'?"
ok "unknown command suggests the close one"

run --bogus version
expect_rc 2
expect_err "unknown option '--bogus'"
ok "unknown option is a usage error"

run
expect_rc 2
ok "no command is a usage error"

run deploy
expect_rc 2
expect_err "'deploy' needs a release TAG"
ok "deploy without TAG"

run history --dry-run
expect_rc 2
expect_err "deploy options given to 'history'"
ok "deploy-only flags are refused elsewhere"

run -c nonexistent.cfg plan v1.0.0
expect_rc 2
expect_err "cannot read configuration 'nonexistent.cfg'"
ok "missing config file"

run --json -c nonexistent.cfg plan v1.0.0
expect_rc 2
[ "$(json_get "$TMP/out" 'd["exit_code"]')" = "2" ] || fail "json error doc"
ok "--json failure still prints one JSON document"
