# check unit tests, one suite per module (core and libgantry).  Each links
# the core and the SDK as gantry does (UNIT_LDADD, UNIT_LINK_FLAGS in
# tests/local.mk): check_loader loads fixture plugins, which bind to the
# public API the test program exports.
check_PROGRAMS += tests/unit/check_util
tests_unit_check_util_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_util_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_util_LDADD = $(UNIT_LDADD)
tests_unit_check_util_LDFLAGS = $(UNIT_LINK_FLAGS)
TESTS += tests/unit/check_util

check_PROGRAMS += tests/unit/check_report
tests_unit_check_report_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_report_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_report_LDADD = $(UNIT_LDADD)
tests_unit_check_report_LDFLAGS = $(UNIT_LINK_FLAGS)
TESTS += tests/unit/check_report

check_PROGRAMS += tests/unit/check_filecheck
tests_unit_check_filecheck_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_filecheck_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_filecheck_LDADD = $(UNIT_LDADD)
tests_unit_check_filecheck_LDFLAGS = $(UNIT_LINK_FLAGS)
TESTS += tests/unit/check_filecheck

check_PROGRAMS += tests/unit/check_journal
tests_unit_check_journal_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_journal_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_journal_LDADD = $(UNIT_LDADD)
tests_unit_check_journal_LDFLAGS = $(UNIT_LINK_FLAGS)
TESTS += tests/unit/check_journal

check_PROGRAMS += tests/unit/check_lock
tests_unit_check_lock_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_lock_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_lock_LDADD = $(UNIT_LDADD)
tests_unit_check_lock_LDFLAGS = $(UNIT_LINK_FLAGS)
TESTS += tests/unit/check_lock

check_PROGRAMS += tests/unit/check_loader
tests_unit_check_loader_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_loader_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_loader_LDADD = $(UNIT_LDADD)
tests_unit_check_loader_LDFLAGS = $(UNIT_LINK_FLAGS)
TESTS += tests/unit/check_loader

check_PROGRAMS += tests/unit/check_abi
tests_unit_check_abi_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_abi_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_abi_LDADD = $(UNIT_LDADD)
tests_unit_check_abi_LDFLAGS = $(UNIT_LINK_FLAGS)
TESTS += tests/unit/check_abi

check_PROGRAMS += tests/unit/check_cmd
tests_unit_check_cmd_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_cmd_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_cmd_LDADD = $(UNIT_LDADD)
tests_unit_check_cmd_LDFLAGS = $(UNIT_LINK_FLAGS)
TESTS += tests/unit/check_cmd

check_PROGRAMS += tests/unit/check_json
tests_unit_check_json_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_json_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_json_LDADD = $(UNIT_LDADD)
tests_unit_check_json_LDFLAGS = $(UNIT_LINK_FLAGS)
TESTS += tests/unit/check_json

# The test's HTTP server runs in a thread.
check_PROGRAMS += tests/unit/check_http
tests_unit_check_http_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_http_CFLAGS = $(UNIT_CFLAGS) -pthread
tests_unit_check_http_LDADD = $(UNIT_LDADD) -lpthread
tests_unit_check_http_LDFLAGS = $(UNIT_LINK_FLAGS)
TESTS += tests/unit/check_http

# The exec stage is compiled into its test, which calls its descriptor.
check_PROGRAMS += tests/unit/check_exec
tests_unit_check_exec_SOURCES = tests/unit/check_exec.c plugins/exec/exec.c
tests_unit_check_exec_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_exec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_exec_LDADD = $(UNIT_LDADD)
tests_unit_check_exec_LDFLAGS = $(UNIT_LINK_FLAGS)
TESTS += tests/unit/check_exec

# check_aws talks to the sandbox's AWS simulator: its wrapper starts one
# (or skips the test without python3) and runs check_aws inside it.
check_PROGRAMS += tests/unit/check_aws
tests_unit_check_aws_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_aws_CFLAGS = $(UNIT_CFLAGS) $(XML_CFLAGS) $(CRYPTO_CFLAGS) \
	-pthread
tests_unit_check_aws_LDADD = $(UNIT_LDADD) $(CRYPTO_LIBS) -lpthread
tests_unit_check_aws_LDFLAGS = $(UNIT_LINK_FLAGS)
TESTS += tests/unit/aws-test-wrapper.sh
EXTRA_DIST += tests/unit/aws-test-wrapper.sh

# libgantry.so and gantry export the public API (sdk/libgantry.sym), and
# nothing else of ours.
TESTS += tests/unit/t-exports.sh
EXTRA_DIST += tests/unit/t-exports.sh
