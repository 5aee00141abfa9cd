# gantry-stage-test: the SDK's test harness (runs one plugin through gantry
# without a hand-written gantry.cfg).  Generated so it names the installed
# gantry and plugin directory.
bin_SCRIPTS = sdk/harness/gantry-stage-test
CLEANFILES += sdk/harness/gantry-stage-test
EXTRA_DIST += sdk/harness/gantry-stage-test.in

sdk/harness/gantry-stage-test: $(srcdir)/sdk/harness/gantry-stage-test.in Makefile
	$(AM_V_GEN)$(MKDIR_P) sdk/harness && \
	sed -e 's|@bindir@|$(bindir)|g' -e 's|@pkglibdir@|$(pkglibdir)|g' \
		$(srcdir)/sdk/harness/gantry-stage-test.in >$@.tmp && \
	chmod +x $@.tmp && mv $@.tmp $@
