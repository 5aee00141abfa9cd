/*
 * event.c - the CI release event: the GitHub `release` payload a workflow
 * finds at $GITHUB_EVENT_PATH.  The seed's release flow starts from that
 * form ("Set as a pre-release" ticked for v0.1.0-rc.1, not for v0.1.0),
 * so the event must agree with the tag before anything deploys.
 *
 * Fields read: release.tag_name, release.draft, release.prerelease,
 * release.body, repository.full_name and the event's action.  A payload
 * without a `release` object (a push, a workflow_dispatch) is not a
 * release event and is not checked.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gantry/gantry.h>

#include "gitrel.h"

#include "banned.h"

/* GitHub's payloads are a few kilobytes; anything near this is not one. */
#define GR_EVENT_MAX (16u << 20)

void gr_event_clear(struct gr_event *ev)
{
	free(ev->repository);
	free(ev->body);
	free(ev->action);
	memset(ev, 0, sizeof(*ev));
}

static char *dup_or_null(const char *s)
{
	return s ? gantry_xstrdup(s) : NULL;
}

static int check_release(struct gantry_ctx *ctx, const struct gantry_json *doc,
			 const char *path, const struct gr_release_want *want)
{
	const char *tag = gantry_json_string(doc, "release.tag_name", NULL);
	const char *action = gantry_json_string(doc, "action", NULL);
	const struct gantry_json *pre = gantry_json_get(doc,
							"release.prerelease");

	if (!tag)
		return gantry_fail(ctx, GANTRY_EFAIL, "the release event in "
				   "'%s' has no release.tag_name; point "
				   "event_path at a GitHub release payload",
				   path);
	if (strcmp(tag, want->tag))
		return gantry_fail(ctx, GANTRY_EFAIL, "the release event is "
				   "for tag '%s', not '%s'; deploy the tag the "
				   "release names, or run without the event "
				   "(unset GITHUB_EVENT_PATH)", tag, want->tag);
	if (action && (!strcmp(action, "deleted") ||
		       !strcmp(action, "unpublished")))
		return gantry_fail(ctx, GANTRY_EFAIL, "release %s was %s; a "
				   "release that is gone deploys nothing", tag,
				   action);
	if (gantry_json_bool(doc, "release.draft", 0))
		return gantry_fail(ctx, GANTRY_EFAIL, "release %s is still a "
				   "draft; publish it first (a draft deploys "
				   "nothing)", tag);
	if (pre && gantry_json_type(pre) == GANTRY_JSON_BOOL) {
		int flagged = gantry_json_bool(pre, NULL, 0);

		if (flagged && !want->candidate)
			return gantry_fail(ctx, GANTRY_EFAIL, "release %s is "
				"published as a pre-release, but a final tag "
				"deploys to production; edit the release and "
				"untick 'Set as a pre-release'", tag);
		if (!flagged && want->candidate)
			return gantry_fail(ctx, GANTRY_EFAIL, "release %s is "
				"not published as a pre-release, but a release "
				"candidate deploys to staging; edit the "
				"release and tick 'Set as a pre-release'", tag);
	}
	return GANTRY_OK;
}

int gr_event_check(struct gantry_ctx *ctx, const char *path, int explicit,
		   const struct gr_release_want *want, struct gr_event *ev)
{
	struct gantry_json *doc;
	char err[160], *text;
	size_t len = 0;
	int rc;

	memset(ev, 0, sizeof(*ev));
	text = gantry_read_file(path, GR_EVENT_MAX, &len);
	rc = text ? 0 : errno;
	if (rc == ENOENT) {
		if (explicit)
			gantry_warn(ctx, "event file '%s' does not exist; no "
				    "release event checked", path);
		return GANTRY_OK;
	}
	if (rc)
		return gantry_fail(ctx, GANTRY_EFAIL, "cannot read the CI "
				   "event file '%s': %s; fix event_path or "
				   "GITHUB_EVENT_PATH", path, strerror(rc));
	doc = gantry_json_parse(text, len, err, sizeof(err));
	free(text);
	if (!doc)
		return gantry_fail(ctx, GANTRY_EFAIL, "the CI event file '%s' "
				   "is not JSON (%s); point event_path at the "
				   "release event payload", path, err);
	if (gantry_json_type(gantry_json_get(doc, "release")) !=
	    GANTRY_JSON_OBJECT) {
		gantry_info(ctx, "CI event '%s' is not a release event; not "
			    "checked", path);
		gantry_json_free(doc);
		return GANTRY_OK;
	}
	rc = check_release(ctx, doc, path, want);
	if (rc == GANTRY_OK) {
		ev->present = 1;
		ev->repository = dup_or_null(gantry_json_string(doc,
					"repository.full_name", NULL));
		ev->body = dup_or_null(gantry_json_string(doc, "release.body",
							  NULL));
		ev->action = dup_or_null(gantry_json_string(doc, "action",
							    NULL));
	}
	gantry_json_free(doc);
	return rc;
}
