# journal and lock
core_libgantrycore_la_SOURCES += core/journal.c core/journal_record.c core/lock.c \
	core/statedir.h core/statedir.c core/state.h core/state.c \
	core/state_aws.h core/state_aws.c core/state_aws_lock.c \
	core/state_aws_journal.c

check_PROGRAMS += tests/unit/check_journal tests/unit/check_lock
tests_unit_check_journal_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_journal_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_journal_LDADD = $(UNIT_LDADD)
tests_unit_check_journal_LDFLAGS = $(UNIT_LINK_FLAGS)
tests_unit_check_lock_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
tests_unit_check_lock_CFLAGS = $(UNIT_CFLAGS)
tests_unit_check_lock_LDADD = $(UNIT_LDADD)
tests_unit_check_lock_LDFLAGS = $(UNIT_LINK_FLAGS)
TESTS += tests/unit/check_journal tests/unit/check_lock
