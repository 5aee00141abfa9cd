# plugin loader and its refusal fixtures
core_libgantrycore_la_SOURCES += core/loader.c

# Fixture plugins for every path of the loader: built as modules in
# tests/fixtures/loader/.libs/, never installed.  noentry exports all its
# symbols (it has no entry symbol to keep).
check_LTLIBRARIES += tests/fixtures/loader/good.la
tests_fixtures_loader_good_la_SOURCES = tests/fixtures/loader/good.c
tests_fixtures_loader_good_la_LDFLAGS = $(FIXTURE_LINK_FLAGS)

check_LTLIBRARIES += tests/fixtures/loader/goodnotify.la
tests_fixtures_loader_goodnotify_la_SOURCES = tests/fixtures/loader/goodnotify.c
tests_fixtures_loader_goodnotify_la_LDFLAGS = $(FIXTURE_LINK_FLAGS)

check_LTLIBRARIES += tests/fixtures/loader/nulldesc.la
tests_fixtures_loader_nulldesc_la_SOURCES = tests/fixtures/loader/nulldesc.c
tests_fixtures_loader_nulldesc_la_LDFLAGS = $(FIXTURE_LINK_FLAGS)

check_LTLIBRARIES += tests/fixtures/loader/badmagic.la
tests_fixtures_loader_badmagic_la_SOURCES = tests/fixtures/loader/badmagic.c
tests_fixtures_loader_badmagic_la_LDFLAGS = $(FIXTURE_LINK_FLAGS)

check_LTLIBRARIES += tests/fixtures/loader/othermajor.la
tests_fixtures_loader_othermajor_la_SOURCES = tests/fixtures/loader/othermajor.c
tests_fixtures_loader_othermajor_la_LDFLAGS = $(FIXTURE_LINK_FLAGS)

check_LTLIBRARIES += tests/fixtures/loader/newerminor.la
tests_fixtures_loader_newerminor_la_SOURCES = tests/fixtures/loader/newerminor.c
tests_fixtures_loader_newerminor_la_LDFLAGS = $(FIXTURE_LINK_FLAGS)

check_LTLIBRARIES += tests/fixtures/loader/smallsize.la
tests_fixtures_loader_smallsize_la_SOURCES = tests/fixtures/loader/smallsize.c
tests_fixtures_loader_smallsize_la_LDFLAGS = $(FIXTURE_LINK_FLAGS)

check_LTLIBRARIES += tests/fixtures/loader/noname.la
tests_fixtures_loader_noname_la_SOURCES = tests/fixtures/loader/noname.c
tests_fixtures_loader_noname_la_LDFLAGS = $(FIXTURE_LINK_FLAGS)

check_LTLIBRARIES += tests/fixtures/loader/norun.la
tests_fixtures_loader_norun_la_SOURCES = tests/fixtures/loader/norun.c
tests_fixtures_loader_norun_la_LDFLAGS = $(FIXTURE_LINK_FLAGS)

check_LTLIBRARIES += tests/fixtures/loader/noevent.la
tests_fixtures_loader_noevent_la_SOURCES = tests/fixtures/loader/noevent.c
tests_fixtures_loader_noevent_la_LDFLAGS = $(FIXTURE_LINK_FLAGS)

check_LTLIBRARIES += tests/fixtures/loader/badtype.la
tests_fixtures_loader_badtype_la_SOURCES = tests/fixtures/loader/badtype.c
tests_fixtures_loader_badtype_la_LDFLAGS = $(FIXTURE_LINK_FLAGS)

check_LTLIBRARIES += tests/fixtures/loader/nohelp.la
tests_fixtures_loader_nohelp_la_SOURCES = tests/fixtures/loader/nohelp.c
tests_fixtures_loader_nohelp_la_LDFLAGS = $(FIXTURE_LINK_FLAGS)

check_LTLIBRARIES += tests/fixtures/loader/clash.la
tests_fixtures_loader_clash_la_SOURCES = tests/fixtures/loader/clash.c
tests_fixtures_loader_clash_la_LDFLAGS = $(FIXTURE_LINK_FLAGS)

check_LTLIBRARIES += tests/fixtures/loader/noentry.la
tests_fixtures_loader_noentry_la_SOURCES = tests/fixtures/loader/noentry.c
tests_fixtures_loader_noentry_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere

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
