#!/bin/sh
# t-exports.sh - libgantry exports the public API and nothing else.
#
#   tests/unit/t-exports.sh [BUILDDIR]
#
# Fails when
#   - sdk/libgantry.sym (the export list) is not exactly the functions and
#     objects declared in sdk/include/gantry/*.h;
#   - sdk/.libs/libgantry.so exports a symbol not on the list (a gantry_i_*
#     internal above all), or lacks one that is;
#   - the gantry executable, which exports the public API for the plugins
#     it loads (docs/abi.md, "What libgantry exports"), exports any other
#     symbol defined by gantry's own objects (core/, sdk/lib/), or lacks a
#     public one.
# BUILDDIR defaults to $top_builddir, as `make check` sets it.
set -u

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=$(cd "${1:-${top_builddir:-.}}" && pwd)
NM=${NM:-nm}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

# A file's dynamic symbols defined in it, one name a line, sorted.
dynsyms() {
	"$NM" -D --defined-only "$1" | awk 'NF >= 3 { print $NF }' |
		sed 's/@.*//' | sort -u
}

# 1. The list against the headers: every name declared as a function
# (followed by "(") or an extern object, outside comments and
# preprocessor lines (macros such as gantry_info are not symbols).
awk '
	{ line = $0 }
	incomment {
		if (!match(line, /\*\//)) next
		line = substr(line, RSTART + 2); incomment = 0
	}
	{
		out = ""
		while (match(line, /\/\*/)) {
			out = out substr(line, 1, RSTART - 1) " "
			line = substr(line, RSTART + 2)
			if (match(line, /\*\//)) {
				line = substr(line, RSTART + 2)
			} else {
				line = ""; incomment = 1
			}
		}
		line = out line
	}
	cont { cont = (line ~ /\\$/); next }
	line ~ /^[ \t]*#/ { cont = (line ~ /\\$/); next }
	{ print line }
' "$srcdir"/sdk/include/gantry/*.h >"$tmp/headers.c"
{
	grep -oE '\bgantry_[a-z0-9_]+[[:space:]]*\(' "$tmp/headers.c" |
		tr -d ' \t('
	grep -E '^[[:space:]]*extern[[:space:]]' "$tmp/headers.c" |
		grep -oE '\bgantry_[a-z0-9_]+[[:space:]]*(\[[^]]*\])?[[:space:]]*;' |
		sed 's/[^a-z0-9_].*//'
} | sort -u >"$tmp/declared"
grep -v '^[[:space:]]*$' "$srcdir/sdk/libgantry.sym" | sort -u >"$tmp/list"
if ! cmp -s "$tmp/declared" "$tmp/list"; then
	echo "FAIL: sdk/libgantry.sym differs from what sdk/include/gantry/*.h declares"
	echo "      (< declared only, > listed only):"
	diff "$tmp/declared" "$tmp/list" | grep '^[<>]'
	fail=1
fi
n=$(wc -l <"$tmp/list")

# Checks the symbols file $1 (named $2) exports against the list; $3, if
# given, names the symbols gantry's own objects define: exports outside it
# (libc's _end and the like) are not ours and are let be.
check_exports() {
	dynsyms "$1" >"$tmp/exported"
	if [ $# -ge 3 ]; then
		comm -12 "$tmp/exported" "$3" >"$tmp/ours"
		grep '^gantry_' "$tmp/exported" >>"$tmp/ours"
		sort -u "$tmp/ours" -o "$tmp/ours"
	else
		cp "$tmp/exported" "$tmp/ours"
	fi
	comm -23 "$tmp/ours" "$tmp/list" >"$tmp/extra"
	comm -13 "$tmp/exported" "$tmp/list" >"$tmp/missing"
	if [ -s "$tmp/extra" ]; then
		echo "FAIL: $2 exports $(wc -l <"$tmp/extra") symbols that are not public API" \
			"($(grep -c '^gantry_i_' "$tmp/extra") of them gantry_i_ internals):"
		sed 's/^/      /' "$tmp/extra"
		fail=1
	fi
	if [ -s "$tmp/missing" ]; then
		echo "FAIL: $2 does not export $(wc -l <"$tmp/missing") public symbols:"
		sed 's/^/      /' "$tmp/missing"
		fail=1
	fi
	if [ ! -s "$tmp/extra" ] && [ ! -s "$tmp/missing" ]; then
		echo "ok: $2 exports the $n public symbols and no other of ours"
	fi
}

# 2. libgantry.so
lib=$builddir/sdk/.libs/libgantry.so
if [ ! -f "$lib" ]; then
	echo "FAIL: no $lib; build first"
	exit 1
fi
check_exports "$lib" libgantry.so

# 3. the gantry executable (the real one, not a libtool wrapper)
exe=$builddir/gantry
if [ "$(head -c 4 "$exe" 2>/dev/null | od -An -c | tr -d ' ')" != '177ELF' ]; then
	exe=$builddir/.libs/gantry
fi
if [ ! -f "$exe" ]; then
	echo "FAIL: no gantry executable in $builddir; build first"
	exit 1
fi
: >"$tmp/defined"
for o in "$builddir"/core/.libs/libgantrycore.a \
	 "$builddir"/sdk/.libs/libgantrysdk.a "$builddir"/core/gantry-main.o; do
	[ -f "$o" ] || continue
	"$NM" -g --defined-only "$o" 2>/dev/null |
		awk 'NF >= 3 { print $NF }' >>"$tmp/defined"
done
sort -u "$tmp/defined" -o "$tmp/defined"
check_exports "$exe" gantry "$tmp/defined"

exit $fail
