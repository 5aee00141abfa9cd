#!/bin/sh
# run-cppcheck.sh - cppcheck over core/, sdk/lib/ and plugins/; fails on
# any finding not suppressed in tests/static/cppcheck.supp.
#
#   tests/static/run-cppcheck.sh [BUILDDIR]
#
# BUILDDIR (default: $top_builddir) supplies config.h.  Exit 77 when
# cppcheck is not installed.
set -u

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
builddir=$(cd "${1:-${top_builddir:-.}}" && pwd)
CPPCHECK=${CPPCHECK:-cppcheck}
if ! command -v "$CPPCHECK" >/dev/null 2>&1; then
	echo "run-cppcheck: $CPPCHECK not found; install cppcheck" >&2
	exit 77
fi
if [ ! -f "$builddir/config.h" ]; then
	echo "run-cppcheck: no config.h in '$builddir'; configure first" >&2
	exit 1
fi
mkdir -p "$builddir/tests/static/cppcheck-build" || exit 1

# One configuration (the one gcc builds) keeps the run short; system
# headers are not analysed.
cd "$srcdir" || exit 1
exec "$CPPCHECK" --enable=warning,portability,performance \
	--error-exitcode=1 --std=c11 --quiet --inline-suppr \
	-j "$(nproc 2>/dev/null || echo 2)" \
	--cppcheck-build-dir="$builddir/tests/static/cppcheck-build" \
	-DHAVE_CONFIG_H -D__GNUC__ -D__linux__ \
	-I"$builddir" -Isdk/include -Isdk/intree -Isdk/lib -Icore \
	--suppress=missingIncludeSystem \
	--suppressions-list="$srcdir/tests/static/cppcheck.supp" \
	--template='{file}:{line}: {severity}: {message} [{id}]' \
	core sdk/lib plugins
