#!/bin/sh
# t0000: version, help, usage errors and their exit codes.
. "$top_srcdir/tests/lib.sh"

# The ABI the SDK's header declares is the one the core must report.
abi=$(sed -n 's/^#define GANTRY_ABI_MAJOR \([0-9]*\)$/\1/p' "$top_srcdir/sdk/include/gantry/stage.h").$(sed -n 's/^#define GANTRY_ABI_MINOR \([0-9]*\)$/\1/p' "$top_srcdir/sdk/include/gantry/stage.h")
case $abi in [0-9]*.[0-9]*) ;; *) fail "cannot read the ABI version from stage.h: '$abi'" ;; esac
run version
expect_rc 0
expect_out "gantry 0.1.0 (plugin ABI $abi)"
ok "version prints package and ABI versions"

run --json version
expect_rc 0
[ "$(json_get "$TMP/out" 'd["abi"]')" = "$abi" ] || fail "json abi"
ok "--json version is one JSON document"

run --help
expect_rc 0
expect_out "exit codes:"
expect_out "6 locked by another deploy"
ok "--help documents commands and exit codes"

run --json help
expect_rc 0
commands=$(json_get "$TMP/out" '" ".join(c["name"] for c in d["commands"])')
[ -n "$commands" ] || fail "no commands in --json help"
for c in $commands; do
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

# The command table (--json help), the text of `gantry help`, the bash
# completion and the man page name the same commands: a command added to
# the table is added to the other three too.
run --json help
table=$(json_get "$TMP/out" '" ".join(sorted(c["name"] for c in d["commands"]))')
run help
text=$(sed -n '/^commands:$/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p' "$TMP/out" | LC_ALL=C sort -u | tr '\n' ' ')
completion=$(sed -n 's/^[[:space:]]*local commands="\(.*\)"$/\1/p' \
	"$top_srcdir/contrib/completion/gantry.bash" | tr ' ' '\n' | LC_ALL=C sort -u | tr '\n' ' ')
# Man: the first word of each .TP heading in COMMANDS, and of each part
# after ", " (".BI "lock " ENV ", unlock " ENV").
man=$(python3 - "$top_srcdir/docs/man/gantry.1" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
sec = lines[lines.index(".SH COMMANDS") + 1:]
sec = sec[:next(i for i, l in enumerate(sec) if l.startswith(".SH "))]
names = set()
for i, l in enumerate(sec):
    if l == ".TP":
        head = re.sub(r'^\.B[IR]? ', '', sec[i + 1]).replace('"', '')
        names.update(part.split()[0] for part in head.split(", "))
print(" ".join(sorted(names)))
PY
)
[ "$(echo $table | wc -w)" -ge 13 ] || fail "command table: $table"
[ "$(echo $text)" = "$table" ] || fail "'gantry help' lists '$(echo $text)', the table '$table'"
[ "$(echo $completion)" = "$table" ] ||
	fail "contrib/completion/gantry.bash lists '$(echo $completion)', the table '$table'"
[ "$man" = "$table" ] || fail "docs/man/gantry.1 COMMANDS lists '$man', the table '$table'"
ok "help, bash completion and man page list the commands of the table"
