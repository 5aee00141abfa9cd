# check unit tests (core modules and libgantry)
check_PROGRAMS += tests/unit/check_util
tests_unit_check_util_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_util_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_util_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/check_util
check_PROGRAMS += tests/unit/check_report
tests_unit_check_report_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_report_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_report_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/check_report
check_PROGRAMS += tests/unit/check_filecheck
tests_unit_check_filecheck_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_filecheck_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_filecheck_LDADD = $(UNIT_LDADD)
TESTS += tests/unit/check_filecheck

# libgantry.so and gantry export the public API (sdk/libgantry.sym), and
# nothing else of ours.
TESTS += tests/unit/t-exports.sh
EXTRA_DIST += tests/unit/t-exports.sh
