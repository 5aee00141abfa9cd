# Fuzzing (tests/fuzz/): libFuzzer targets built with clang by
# run-fuzz.sh outside automake (they need -fsanitize=fuzzer and an
# instrumented copy of the sources).  `make check` runs each target for
# FUZZ_SECONDS (60 by default); `make fuzz` runs each for FUZZ_SECONDS
# (600 by default: the long run).
TESTS += tests/fuzz/t-fuzz-short.sh
EXTRA_DIST += tests/fuzz/t-fuzz-short.sh tests/fuzz/run-fuzz.sh \
	tests/fuzz/fuzz.h tests/fuzz/lsan.supp \
	tests/fuzz/config.dict tests/fuzz/interp.dict \
	tests/fuzz/fuzz_config.c tests/fuzz/fuzz_interp.c \
	tests/fuzz/fuzz_json.c tests/fuzz/fuzz_awsxml.c \
	tests/fuzz/fuzz_tfplan.c tests/fuzz/fuzz_journal.c \
	tests/fuzz/fuzz_oci.c tests/fuzz/corpus tests/fuzz/regress

fuzz:
	FUZZ_SECONDS=$${FUZZ_SECONDS:-600} \
		$(SHELL) $(srcdir)/tests/fuzz/run-fuzz.sh $(abs_builddir) \
		</dev/null
.PHONY: fuzz

clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz/obj tests/fuzz/new-corpus tests/fuzz/artifacts \
		tests/fuzz/*.log tests/fuzz/fuzz_config tests/fuzz/fuzz_interp \
		tests/fuzz/fuzz_json tests/fuzz/fuzz_awsxml \
		tests/fuzz/fuzz_tfplan tests/fuzz/fuzz_journal \
		tests/fuzz/fuzz_oci
.PHONY: clean-fuzz
