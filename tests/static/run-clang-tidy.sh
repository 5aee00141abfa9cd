#!/bin/sh
# run-clang-tidy.sh - clang-tidy over core/, sdk/lib/ and plugins/ with
# the checked-in .clang-tidy; fails on any finding not listed in
# tests/static/clang-tidy.supp.
#
#   tests/static/run-clang-tidy.sh [BUILDDIR]
#
# BUILDDIR (default: $top_builddir, as `make check` sets it) is a
# configured build directory: its config.h is used, and the compilation
# database is written to BUILDDIR/tests/static/compile_commands.json from
# the Makefile's flags.  Exit 77 when clang-tidy is not installed.
set -u

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=$(cd "${1:-${top_builddir:-.}}" && pwd)
TIDY=${CLANG_TIDY:-clang-tidy}
if ! command -v "$TIDY" >/dev/null 2>&1; then
	echo "run-clang-tidy: $TIDY not found; install clang-tidy" >&2
	exit 77
fi
if [ ! -f "$builddir/config.h" ]; then
	echo "run-clang-tidy: no config.h in '$builddir'; configure first" >&2
	exit 1
fi
out=$builddir/tests/static
mkdir -p "$out" || exit 1

# The flags Makefile.am gives every object (AM_CPPFLAGS, -std=c11) and
# the libraries' include paths; each plugin also sees its own directory.
pcflags=$(pkg-config --cflags json-c libconfig libcurl libxml-2.0 libcrypto)
files=$(cd "$srcdir" && ls core/*.c sdk/lib/*.c plugins/*/*.c)
{
	echo "["
	sep=""
	for f in $files; do
		args="\"clang\", \"-std=c11\", \"-DHAVE_CONFIG_H\""
		# Plugins see only the public headers, as in Makefile.am.
		case $f in
		plugins/*) private= ;;
		*) private="$srcdir/sdk/lib $srcdir/core" ;;
		esac
		for i in "$builddir" "$srcdir/sdk/include" "$srcdir/sdk/intree" \
			 $private "$srcdir/$(dirname "$f")"; do
			args="$args, \"-I$i\""
		done
		args="$args, \"-DGANTRY_PLUGIN_DIR=\\\"/usr/local/lib/gantry\\\"\""
		args="$args, \"-DGANTRY_SYSCONFDIR=\\\"/usr/local/etc\\\"\""
		for p in $pcflags; do
			args="$args, \"$p\""
		done
		printf '%s{ "directory": "%s", "file": "%s",\n  "arguments": [%s, "-c", "%s"] }\n' \
			"$sep" "$builddir" "$srcdir/$f" "$args" "$srcdir/$f"
		sep=","
	done
	echo "]"
} >"$out/compile_commands.json"

log=$out/clang-tidy.log
# One file per run: clang 14's va_list checker reports every vsnprintf
# after va_start as uninitialised when one run analyses several files.
# shellcheck disable=SC2086
(cd "$srcdir" && printf '%s\n' $files |
	xargs -P "$(nproc 2>/dev/null || echo 2)" -n 1 \
		"$TIDY" -p "$out" --quiet --use-color=false) >"$log" 2>&1

# Findings: "path:line:col: warning|error: text [check,...]".  A finding
# is suppressed when clang-tidy.supp lists its file and check.
supp=$srcdir/tests/static/clang-tidy.supp
left=$(grep -E '^[^ ]+:[0-9]+:[0-9]+: (warning|error): .*\[[a-z]' "$log" |
	sed "s|^$srcdir/||" | sort -u |
	while IFS= read -r line; do
		file=${line%%:*}
		check=$(echo "$line" | sed 's/.*\[\([^],]*\).*/\1/')
		if grep -Eq "^$file[[:space:]]+$check([[:space:]]|$)" "$supp"
		then
			continue
		fi
		echo "$line"
	done)
if [ -n "$left" ]; then
	echo "run-clang-tidy: findings (full output in $log):" >&2
	echo "$left" >&2
	exit 1
fi
if grep -q "error: .*\(file not found\|unknown argument\)" "$log"; then
	echo "run-clang-tidy: clang-tidy could not compile a file:" >&2
	grep "error: " "$log" | head -n 5 >&2
	exit 1
fi
echo "run-clang-tidy: clean ($(echo "$files" | wc -l) files)" >&2
exit 0
