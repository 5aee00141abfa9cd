#!/bin/sh
# t-fuzz-short.sh - the short fuzzing pass of `make check`: builds every
# libFuzzer target and runs each for FUZZ_SECONDS (default 60) from its
# checked-in corpus, after replaying its regression inputs.  Any crash,
# leak or undefined behaviour fails it; skipped (77) without clang and
# libFuzzer.  `make fuzz` is the long run (600 s a target).
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-.}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
export FUZZ_SECONDS
exec sh "$top_srcdir/tests/fuzz/run-fuzz.sh" "$top_builddir" </dev/null
