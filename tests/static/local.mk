# Static analysis (tests/static/): cppcheck and clang-tidy over core/,
# sdk/lib/ and plugins/, with the checked-in .clang-tidy and suppression
# lists; each test skips (77) when its tool is missing.  check-skips.sh:
# no test script prints a skip note and goes on (a skip is a whole test).
TESTS += tests/static/run-cppcheck.sh tests/static/run-clang-tidy.sh \
	tests/static/check-skips.sh
EXTRA_DIST += tests/static/run-cppcheck.sh tests/static/run-clang-tidy.sh \
	tests/static/check-skips.sh \
	tests/static/cppcheck.supp tests/static/clang-tidy.supp .clang-tidy

# The core uses JSON through gantry/json.h only (no json-c).
TESTS += tests/static/t-core-json.sh
EXTRA_DIST += tests/static/t-core-json.sh

# What the checks leave in the build tree (and the report test's
# screenshot artifact).
clean-local: clean-static
clean-static:
	rm -rf tests/static/cppcheck-build tests/static/compile_commands.json \
		tests/static/clang-tidy.log \
		tests/artifacts
.PHONY: clean-static
