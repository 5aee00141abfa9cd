# (ASAN_OPTIONS: the containment tests need a crashing stage to die of its
# signal, not of ASan's report, in a --enable-sanitizers build.)
# Tests: check unit tests (tests/unit/check_*.c, one suite per module) and
# CLI tests (tests/cli/tNNNN-*.sh, numbered by topic as git's t/ does).

TEST_EXTENSIONS = .sh
LOG_COMPILER = $(top_srcdir)/tests/run-test
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	top_srcdir='$(abs_top_srcdir)'; top_builddir='$(abs_top_builddir)'; \
	GANTRY_VALGRIND_BIN='$(VALGRIND)'; \
	ASAN_OPTIONS=handle_segv=0:handle_abort=0:handle_sigbus=0; \
	export top_srcdir top_builddir GANTRY_VALGRIND_BIN ASAN_OPTIONS; \
	unset GANTRY_PLUGIN_PATH GANTRY_STATE_DIR GANTRY_ACTOR GITHUB_ACTOR \
		GITHUB_EVENT_PATH NO_COLOR;

UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(JSONC_CFLAGS) $(LIBCONFIG_CFLAGS)
# Unit tests link the core and the SDK as gantry does (check_loader loads
# fixture plugins, which bind to the public API it exports).
UNIT_LDADD = core/libgantrycore.la sdk/libgantrysdk.la $(CHECK_LIBS)
UNIT_LINK_FLAGS = $(AM_LDFLAGS) $(GANTRY_HOST_LINK_FLAGS)

EXTRA_DIST += tests/run-test tests/lib.sh tests/pty-run.py

# Shell code leaving in $tests the TESTS that run gantry code: all but the
# fuzz pass and the static checks (check-valgrind, check-sanitizers).
gantry_tests_run = tests=; for t in $(TESTS); do \
	case $$t in tests/fuzz/*|tests/static/*) ;; \
	*) tests="$$tests $$t" ;; esac; \
	done;

# Runs the suite under valgrind's memcheck: every gantry invocation of the
# CLI tests (the forked stage processes too) and every unit test; a
# definite leak or an error fails it.  The fuzz pass and the static checks
# run no gantry code under valgrind and are left out.
check-valgrind:
	$(gantry_tests_run) \
	$(MAKE) $(AM_MAKEFLAGS) check GANTRY_VALGRIND=1 TESTS="$$tests"
.PHONY: check-valgrind

# Builds a second copy of the tree from `make distdir` with
# --enable-sanitizers (AddressSanitizer + UBSan, any finding aborts) in
# _sanitizers/ and runs the suite there.  The fuzz pass and the static
# checks are left out: the fuzz targets are sanitized already and the
# static checks do not depend on how the tree is built.  The npm test
# servers are the source tree's (GANTRY_NPM_DIR).  CI (.ci/run)
# runs it after the main suite; its log is _sanitizers/test-suite.log.
check-sanitizers:
	$(MAKE) $(AM_MAKEFLAGS) distdir
	rm -rf _sanitizers && mkdir _sanitizers
	$(gantry_tests_run) \
	cd _sanitizers && ../$(distdir)/configure --enable-sanitizers \
		--enable-werror --quiet && \
		$(MAKE) $(AM_MAKEFLAGS) && \
		GANTRY_NPM_DIR='$(abs_top_srcdir)/contrib/npm' \
		$(MAKE) $(AM_MAKEFLAGS) check TESTS="$$tests"; \
	rc=$$?; cd .. && $(am__remove_distdir); exit $$rc
.PHONY: check-sanitizers
clean-local: clean-sanitizers
clean-sanitizers:
	rm -rf _sanitizers
.PHONY: clean-sanitizers

include tests/unit/local.mk
include tests/cli/local.mk
include tests/fixtures/local.mk
include tests/sandbox/local.mk
include tests/servers/local.mk
include tests/faults/local.mk
include tests/fuzz/local.mk
include tests/static/local.mk
