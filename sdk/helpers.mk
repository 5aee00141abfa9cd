# libgantry helpers: cmd (spawn), http, json.
sdk_libgantrysdk_la_SOURCES += sdk/lib/cmd.c sdk/lib/http.c sdk/lib/json.c

check_PROGRAMS += tests/unit/check_cmd tests/unit/check_http \
	tests/unit/check_json tests/unit/check_exec
TESTS += tests/unit/check_cmd tests/unit/check_http \
	tests/unit/check_json tests/unit/check_exec

tests_unit_check_cmd_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_cmd_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_cmd_LDADD = $(UNIT_LDADD)
tests_unit_check_cmd_LDFLAGS = $(UNIT_LINK_FLAGS)

# The test's HTTP server runs in a thread.
tests_unit_check_http_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_http_CFLAGS = $(UNIT_CFLAGS) -pthread
tests_unit_check_http_LDADD = $(UNIT_LDADD) -lpthread
tests_unit_check_http_LDFLAGS = $(UNIT_LINK_FLAGS)

tests_unit_check_json_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_json_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_json_LDADD = $(UNIT_LDADD)
tests_unit_check_json_LDFLAGS = $(UNIT_LINK_FLAGS)

# The exec stage is compiled into its test, which calls its descriptor.
tests_unit_check_exec_SOURCES = tests/unit/check_exec.c plugins/exec/exec.c
tests_unit_check_exec_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_exec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_exec_LDADD = $(UNIT_LDADD)
tests_unit_check_exec_LDFLAGS = $(UNIT_LINK_FLAGS)
