#!/bin/sh
# run-fuzz.sh - build gantry's libFuzzer targets and run each one.
#
#   tests/fuzz/run-fuzz.sh [-n] BUILDDIR [TARGET...]
#
# BUILDDIR is a configured build directory (its config.h is used).  The
# targets are tests/fuzz/fuzz_*.c (TARGET: the part after fuzz_); each is
# compiled with clang -fsanitize=fuzzer,address,undefined together with
# the project sources it exercises (instrumented copies of sdk/lib/*.c and
# core/*.c, kept in BUILDDIR/tests/fuzz/obj), first replays every
# regression input of tests/fuzz/regress/TARGET/, then fuzzes for
# FUZZ_SECONDS (default 600) starting from the checked-in corpus
# tests/fuzz/corpus/TARGET/.  New corpus entries go to
# BUILDDIR/tests/fuzz/new-corpus/TARGET/, crashes to
# BUILDDIR/tests/fuzz/artifacts/.  -n builds without running.
#
# Exit: 0 clean, 1 a finding (crash, leak, UB, timeout) or a build error,
# 77 when clang cannot build a libFuzzer target here.
set -u

build_only=0
if [ "${1:-}" = "-n" ]; then
	build_only=1
	shift
fi
if [ $# -lt 1 ] || [ ! -f "$1/config.h" ]; then
	echo "usage: $0 [-n] BUILDDIR [TARGET...] (BUILDDIR holds config.h)" >&2
	exit 1
fi
builddir=$(cd "$1" && pwd)
shift
srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fuzzdir=$srcdir/tests/fuzz
out=$builddir/tests/fuzz
seconds=${FUZZ_SECONDS:-600}
CC=${FUZZ_CC:-clang}

all_targets="config interp json awsxml tfplan journal oci"
targets=${*:-$all_targets}

mkdir -p "$out/obj" "$out/artifacts" || exit 1
probe=$out/probe
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\n%s\n' \
	'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; return (int)(n & 0); }' \
	>"$probe.c"
if ! command -v "$CC" >/dev/null 2>&1 ||
   ! "$CC" -fsanitize=fuzzer,address,undefined -o "$probe" "$probe.c" \
	>/dev/null 2>&1; then
	echo "run-fuzz: '$CC' cannot build libFuzzer targets; install clang" \
	     "and libclang-rt-14-dev" >&2
	rm -f "$probe" "$probe.c"
	exit 77
fi
rm -f "$probe" "$probe.c"

pcflags=$(pkg-config --cflags json-c libconfig libcurl libxml-2.0 libcrypto)
pclibs=$(pkg-config --libs json-c libconfig libcurl libxml-2.0 libcrypto)
# UB aborts like a crash; no recovery hides a finding.
san="-fsanitize=address,undefined -fno-sanitize-recover=all"
cflags="-std=c11 -g -O1 -fno-omit-frame-pointer $san -Wall -Wextra
	-Wno-unused-parameter -Werror -DHAVE_CONFIG_H -I$builddir -I$srcdir/sdk/include
	-I$srcdir/sdk/intree -I$srcdir/sdk/lib -I$srcdir/core -I$srcdir/plugins/ecr
	-I$srcdir/plugins/terraform -DGANTRY_PLUGIN_DIR=\"/nowhere\"
	-DGANTRY_SYSCONFDIR=\"/nowhere\" $pcflags"

# The sources the targets draw on; each target links what it needs from
# the archive.  All of libgantry (its files call each other), and the core
# files the targets exercise.
lib_sources="$(cd "$srcdir" && echo sdk/lib/*.c)
	core/errs.c core/interp.c core/profile.c core/profile_read.c
	core/profile_validate.c core/journal.c core/journal_record.c
	core/statedir.c core/loader.c core/filecheck.c core/optrules.c
	plugins/ecr/util.c"

# Rebuilt when a source, a project header or config.h is newer.
newest_header=$(ls -t "$builddir/config.h" "$srcdir"/sdk/include/gantry/*.h \
	"$srcdir"/sdk/intree/*.h "$srcdir"/sdk/lib/*.h "$srcdir"/core/*.h "$srcdir"/plugins/ecr/*.h \
	"$srcdir"/plugins/terraform/*.h "$fuzzdir"/*.h | head -n 1)
stale() {
	[ ! -f "$1" ] || [ "$2" -nt "$1" ] || [ "$newest_header" -nt "$1" ]
}

objs=""
changed=0
for s in $lib_sources; do
	o=$out/obj/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')
	objs="$objs $o"
	if stale "$o" "$srcdir/$s"; then
		# shellcheck disable=SC2086
		"$CC" $cflags -fsanitize=fuzzer-no-link -c -o "$o" \
			"$srcdir/$s" || exit 1
		changed=1
	fi
done
lib=$out/obj/libfuzzgantry.a
if [ $changed = 1 ] || [ ! -f "$lib" ]; then
	rm -f "$lib"
	# shellcheck disable=SC2086
	ar rcs "$lib" $objs || exit 1
fi

for t in $targets; do
	src=$fuzzdir/fuzz_$t.c
	bin=$out/fuzz_$t
	if [ ! -f "$src" ]; then
		echo "run-fuzz: no target '$t' ($src); targets: $all_targets" >&2
		exit 1
	fi
	# fuzz_tfplan.c includes tfread.c itself: it depends on it too.
	if stale "$bin" "$src" || [ "$lib" -nt "$bin" ] ||
	   [ "$srcdir/plugins/terraform/tfread.c" -nt "$bin" ] ||
	   [ "$srcdir/plugins/ecr/layout.c" -nt "$bin" ]; then
		# shellcheck disable=SC2086
		"$CC" $cflags -fsanitize=fuzzer -o "$bin" "$src" "$lib" \
			$pclibs -lltdl -lpthread -lm || exit 1
	fi
done
[ $build_only = 1 ] && exit 0

# libFuzzer reports leaks at exit of each input's run; ASan must own the
# signals (the test harness turns that off for the CLI tests).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:handle_segv=1:handle_abort=1:allocator_may_return_null=0
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
LSAN_OPTIONS=suppressions=$fuzzdir/lsan.supp:print_suppressions=0
export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

status=0
for t in $targets; do
	bin=$out/fuzz_$t
	corpus=$out/new-corpus/$t
	log=$out/fuzz_$t.log
	mkdir -p "$corpus"
	regress=$fuzzdir/regress/$t
	if [ -d "$regress" ] && [ -n "$(ls "$regress")" ]; then
		if ! "$bin" -runs=1 "$regress"/* >"$out/regress_$t.log" 2>&1
		then
			echo "run-fuzz: $t: a regression input fails again;" \
			     "see $out/regress_$t.log" >&2
			tail -n 30 "$out/regress_$t.log" >&2
			status=1
			continue
		fi
	fi
	dict=""
	[ -f "$fuzzdir/$t.dict" ] && dict="-dict=$fuzzdir/$t.dict"
	echo "run-fuzz: $t: fuzzing for ${seconds}s" >&2
	# shellcheck disable=SC2086
	if ! (cd "$out" && "$bin" -max_total_time="$seconds" -timeout=10 \
		-rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
		-artifact_prefix="$out/artifacts/$t-" $dict \
		"$corpus" "$fuzzdir/corpus/$t") >"$log" 2>&1; then
		echo "run-fuzz: $t: FINDING; log $log, inputs in" \
		     "$out/artifacts/" >&2
		grep -E "ERROR|SUMMARY|runtime error|Test unit written" \
			"$log" | head -n 20 >&2
		status=1
		continue
	fi
	grep -E "^stat::(number_of_executed_units|new_units_added)" "$log" |
		sed "s/^/run-fuzz: $t: /" >&2
done
exit $status
