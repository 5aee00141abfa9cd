# The gantry executable.  Everything but main.c lives in a convenience
# library so unit tests link the same objects.
noinst_LTLIBRARIES += core/libgantrycore.la
core_libgantrycore_la_SOURCES = core/core.h core/errs.c core/util.c core/cli.h core/cli.c core/commands.h core/cli_info.c core/cli_state.c \
	core/journal.h core/lock.h core/loader.h core/filecheck.h core/filecheck.c \
	core/profile.h core/profile_i.h core/profile.c \
	core/profile_read.c core/profile_validate.c core/interp.h core/interp.c \
	core/runner.h core/runner.c core/session.h core/session.c \
	core/pipeline.h core/pipeline_i.h core/pipeline.c \
	core/pipeline_plan.c core/pipeline_rollback.c core/progress.h core/progress.c \
	core/batch.h core/batch_i.h core/batch.c core/batch_draw.c core/batch_file.c \
	core/report.h core/report.c core/report_text.c core/report_html.c \
	core/cli_report.c core/cli_commands.c core/loader.c \
	core/optrules.h core/optrules.c \
	core/journal.c core/journal_record.c core/lock.c \
	core/statedir.h core/statedir.c core/state.h core/state.c \
	core/state_aws.h core/state_aws.c core/state_aws_lock.c \
	core/state_aws_journal.c core/state_aws_decision.c core/decision.c \
	core/approval.h core/approval.c core/cli_approve.c
core_libgantrycore_la_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
core_libgantrycore_la_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS)
core_libgantrycore_la_LIBADD = $(LIBCONFIG_LIBS) $(LTDL_LIBS)

bin_PROGRAMS += gantry
gantry_SOURCES = core/main.c
gantry_CPPFLAGS = $(GANTRY_INTERNAL_CPP_FLAGS)
gantry_CFLAGS = $(AM_CFLAGS) $(LIBCONFIG_CFLAGS)
gantry_LDADD = core/libgantrycore.la sdk/libgantrysdk.la
gantry_LDFLAGS = $(AM_LDFLAGS) $(GANTRY_HOST_LINK_FLAGS)
EXTRA_gantry_DEPENDENCIES = sdk/libgantry.dynlist sdk/libgantry.extern

