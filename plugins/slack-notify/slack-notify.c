/*
 * slack-notify.c - the `slack-notify` notifier: tells a Slack channel
 * how a deploy goes (start, success, failure, rolled back, timed out,
 * interrupted, and stage events when subscribed), with service,
 * environment, version, actor, commit, duration, the failing stage and
 * its reason, and links.  The top-level `text` (what notifications and
 * old clients show) is the headline and, on failure, the stage and the
 * first line of the reason.  Text from outside (tags, actors, reasons) is
 * escaped for mrkdwn (&, <, >) there as in the blocks: only the
 * configured mention_on_failure is markup.
 *
 * Two ways in:
 *   - an incoming webhook (`webhook_url`): one new message per event;
 *   - the Web API (`token` + `channel`): chat.postMessage at the first
 *     event, then chat.update of that same message for every later one,
 *     so a channel shows one line per deploy that changes as it goes.
 *
 * Each event runs in its own child process, so the message's channel
 * and ts are kept between events in a file,
 * $TMPDIR/gantry-slack-<deploy id>-<entry>.ts (mode 0600, never followed
 * through a symlink, ignored unless ours and private), removed at the
 * deploy's final event.  It holds no secret.
 *
 * Delivery: gantry_http with 3 attempts (429 with Retry-After and 5xx
 * are retried there) and 10 s per request.  A failure is reported with
 * gantry_fail; the core logs it as a warning and the deploy goes on.
 *
 * Built only on the public SDK.  No mutable globals.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gantry/gantry.h>

#include "banned.h"

#define SLACK_ATTEMPTS 3
#define SLACK_TIMEOUT_MS 10000L
#define SLACK_HEADER_MAX 150		/* Slack's limit for header text */
#define SLACK_REASON_MAX 500
#define SLACK_TEXT_REASON_MAX 200	/* in the fallback text */

static const struct gantry_option slack_options[] = {
	{ "webhook_url", GANTRY_OPT_STRING, GANTRY_OPT_SECRET, NULL,
	  "incoming webhook URL (secret: it carries a token)" },
	{ "token", GANTRY_OPT_STRING, GANTRY_OPT_SECRET, NULL,
	  "bot token for the Web API: one message per deploy, updated" },
	{ "channel", GANTRY_OPT_STRING, 0, NULL,
	  "channel for the Web API, e.g. \"#deploys\" or \"C0123456\"" },
	{ "api_url", GANTRY_OPT_STRING, 0, "https://slack.com/api",
	  "Web API base URL" },
	{ "mention_on_failure", GANTRY_OPT_STRING, 0, NULL,
	  "who to mention on failures, e.g. \"<!subteam^S0123>\" or "
	  "\"<!here>\"" },
	{ "links", GANTRY_OPT_GROUP, 0, NULL,
	  "links under the message, name = \"URL\" (${...} allowed)" },
	{ "username", GANTRY_OPT_STRING, 0, NULL,
	  "name to post as (where Slack allows it)" },
	{ "icon_emoji", GANTRY_OPT_STRING, 0, NULL,
	  "icon to post with, e.g. \":rocket:\" (where Slack allows it)" },
	{ NULL, 0, 0, NULL, NULL }
};

struct slack_state {
	/* Strings point into the config tree, which outlives fini. */
	const char *webhook;
	const char *token;
	const char *channel;
	const char *api_url;
	const char *mention;
	const struct gantry_config *links;
	const char *username;
	const char *icon;
};

struct outcome {
	const char *event;
	const char *emoji;
	const char *word;
	int failure;		/* show the failing stage and reason */
	int final;		/* the deploy's last event */
};

static const struct outcome outcomes[] = {
	{ "deploy.started", ":rocket:", "started", 0, 0 },
	{ "deploy.succeeded", ":white_check_mark:", "succeeded", 0, 1 },
	{ "deploy.failed", ":x:", "failed", 1, 1 },
	{ "deploy.rolled_back", ":leftwards_arrow_with_hook:",
	  "failed, rolled back", 1, 1 },
	{ "deploy.timed_out", ":hourglass:", "timed out", 1, 1 },
	{ "deploy.interrupted", ":octagonal_sign:", "interrupted", 1, 1 },
	{ "stage.started", ":arrow_forward:", "started", 0, 0 },
	{ "stage.succeeded", ":heavy_check_mark:", "succeeded", 0, 0 },
	{ "stage.failed", ":warning:", "failed", 1, 0 },
	/* The approval stage's (docs/approvals.md): the request shows the
	   commands that decide, the decision who made it and why. */
	{ "approval.requested", ":raised_hand:", "waits for approval", 0, 0 },
	{ "approval.granted", ":thumbsup:", "approved", 0, 0 },
	{ "approval.rejected", ":no_entry:", "rejected", 0, 0 },
};

/* Slack's mrkdwn treats &, < and > as markup: user text is escaped. */
static void add_escaped(struct gantry_buf *b, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] && i < max; i++) {
		switch (s[i]) {
		case '&':
			gantry_buf_adds(b, "&amp;");
			break;
		case '<':
			gantry_buf_adds(b, "&lt;");
			break;
		case '>':
			gantry_buf_adds(b, "&gt;");
			break;
		default:
			gantry_buf_add(b, &s[i], 1);
		}
	}
	if (s[i])
		gantry_buf_adds(b, "...");
}

static int slack_init(const struct gantry_config *cfg, struct gantry_ctx *ctx,
		      void **state)
{
	struct slack_state *st;

	*state = NULL;
	st = gantry_xcalloc(1, sizeof(*st));
	st->webhook = gantry_config_string(cfg, "webhook_url", NULL);
	st->token = gantry_config_string(cfg, "token", NULL);
	st->channel = gantry_config_string(cfg, "channel", NULL);
	st->api_url = gantry_config_string(cfg, "api_url",
					   "https://slack.com/api");
	st->mention = gantry_config_string(cfg, "mention_on_failure", NULL);
	st->links = gantry_config_lookup(cfg, "links");
	st->username = gantry_config_string(cfg, "username", NULL);
	st->icon = gantry_config_string(cfg, "icon_emoji", NULL);
	/* The core registered both already; being sure costs nothing. */
	if (st->webhook)
		gantry_secret_add(st->webhook);
	if (st->token)
		gantry_secret_add(st->token);

	if (!st->webhook == !st->token) {
		const char *which = st->webhook ? "both" : "neither";

		free(st);
		return gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: slack-notify needs either webhook_url (an "
			"incoming webhook) or token and channel (the Web API), "
			"not %s", gantry_config_where(cfg), which);
	}
	if (st->token && (!st->channel || !*st->channel)) {
		free(st);
		return gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: slack-notify with a token needs option 'channel', "
			"e.g. channel = \"#deploys\"",
			gantry_config_where(cfg));
	}
	*state = st;
	return GANTRY_OK;
}

static void slack_fini(void *state)
{
	free(state);
}

static const struct outcome *outcome_of(const struct gantry_event *ev)
{
	static const struct outcome unknown = { "", ":grey_question:", "", 0,
						0 };
	const char *name = gantry_event_name(ev);
	size_t i;

	for (i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		if (name && !strcmp(name, outcomes[i].event))
			return &outcomes[i];
	return &unknown;
}

static const char *ctx_or(const struct gantry_ctx *ctx, const char *key,
			  const char *def)
{
	const char *v = gantry_ctx_get(ctx, key);

	return v && *v ? v : def;
}

/* "failed", "stage 'smoke' failed", "failed (marked failed-but-
   deployed)": what happened, in words. */
static void describe_outcome(struct gantry_buf *b, const struct outcome *o,
			     const struct gantry_event *ev)
{
	const char *name = gantry_event_name(ev);
	const char *result = gantry_event_get(ev, "result");
	const char *stage = gantry_event_get(ev, "stage");

	if (name && !strncmp(name, "stage.", 6)) {
		gantry_buf_addf(b, "stage '%s' %s", stage ? stage : "?", o->word);
		return;
	}
	if (name && !strncmp(name, "approval.", 9)) {
		const char *by = gantry_event_get(ev, "by");

		gantry_buf_addf(b, "%s (entry '%s')", o->word,
				stage ? stage : "?");
		if (by && strcmp(name, "approval.requested"))
			gantry_buf_addf(b, " by %s", by);
		return;
	}
	if (!*o->word) {
		gantry_buf_adds(b, name ? name : "event");
		return;
	}
	gantry_buf_adds(b, o->word);
	if (!result)
		return;
	if (!strcmp(result, "failed_deployed"))
		gantry_buf_adds(b, " (deployed, marked failed)");
	else if (!strcmp(result, "rollback_failed"))
		gantry_buf_adds(b, "; the rollback failed too: an operator is "
			  "needed");
}

/* "address-api v0.1.0-rc.1 to staging: succeeded" */
static void headline(struct gantry_buf *b, const struct gantry_ctx *ctx,
		     const struct outcome *o, const struct gantry_event *ev)
{
	gantry_buf_addf(b, "%s %s to %s: ", ctx_or(ctx, "service", "?"),
		  ctx_or(ctx, "release.tag", "?"),
		  ctx_or(ctx, "release.environment", "?"));
	describe_outcome(b, o, ev);
}

/* "42.0 s", "3m 05s", "1h 02m" */
static void format_duration(struct gantry_buf *b, const char *text)
{
	double s = text ? strtod(text, NULL) : 0;
	long whole = (long)s;

	if (s < 60)
		gantry_buf_addf(b, "%.1f s", s);
	else if (whole < 3600)
		gantry_buf_addf(b, "%ldm %02lds", whole / 60, whole % 60);
	else
		gantry_buf_addf(b, "%ldh %02ldm", whole / 3600, whole % 3600 / 60);
}

static void add_field(struct gantry_json *fields, const char *title,
		      const char *value, int code)
{
	struct gantry_json *f = gantry_json_push_object(fields);
	struct gantry_buf b = GANTRY_BUF_INIT;

	gantry_buf_addf(&b, "*%s*\n%s", title, code ? "`" : "");
	add_escaped(&b, value, 200);
	if (code)
		gantry_buf_adds(&b, "`");
	gantry_json_set_string(f, "type", "mrkdwn");
	gantry_json_set_string(f, "text", b.buf);
	gantry_buf_release(&b);
}

static void add_header(struct gantry_json *blocks, const char *emoji,
		       const char *text)
{
	struct gantry_json *h = gantry_json_push_object(blocks);
	struct gantry_json *t;
	struct gantry_buf b = GANTRY_BUF_INIT;

	gantry_buf_addf(&b, "%s %s", emoji, text);
	if (b.len > SLACK_HEADER_MAX)
		memcpy(b.buf + SLACK_HEADER_MAX - 3, "...", 4);
	gantry_json_set_string(h, "type", "header");
	t = gantry_json_set_object(h, "text");
	gantry_json_set_string(t, "type", "plain_text");
	gantry_json_set_string(t, "text", b.buf);
	gantry_json_set_bool(t, "emoji", 1);
	gantry_buf_release(&b);
}

static void add_facts(struct gantry_json *blocks, const struct gantry_ctx *ctx,
		      const struct outcome *o, const struct gantry_event *ev)
{
	struct gantry_json *sec = gantry_json_push_object(blocks);
	struct gantry_json *fields;
	const char *commit = gantry_ctx_get(ctx, "release.commit");
	const char *duration = gantry_event_get(ev, "duration");
	struct gantry_buf b = GANTRY_BUF_INIT;
	char shortc[13];

	gantry_json_set_string(sec, "type", "section");
	fields = gantry_json_set_array(sec, "fields");
	add_field(fields, "Service", ctx_or(ctx, "service", "?"), 0);
	add_field(fields, "Environment", ctx_or(ctx, "release.environment",
						"?"), 0);
	add_field(fields, "Version", ctx_or(ctx, "release.version", "?"), 0);
	add_field(fields, "Actor", ctx_or(ctx, "deploy.actor", "?"), 0);
	if (commit && *commit) {
		snprintf(shortc, sizeof(shortc), "%s", commit);
		add_field(fields, "Commit", shortc, 1);
	}
	if (duration && strcmp(gantry_event_name(ev), "deploy.started")) {
		format_duration(&b, duration);
		add_field(fields, "Duration", b.buf, 0);
		gantry_buf_reset(&b);
	}
	gantry_buf_addf(&b, "%s ", o->emoji);
	describe_outcome(&b, o, ev);
	add_field(fields, "Outcome", b.buf, 0);
	add_field(fields, "Deploy", ctx_or(ctx, "deploy.id", "?"), 1);
	gantry_buf_release(&b);
}

/* The failing stage and the first line of its reason. */
static void add_failure(struct gantry_json *blocks,
			const struct slack_state *st,
			const struct gantry_event *ev)
{
	const char *stage = gantry_event_get(ev, "stage");
	const char *reason = gantry_event_get(ev, "reason");
	struct gantry_json *sec, *t;
	struct gantry_buf b = GANTRY_BUF_INIT;

	if (!stage && !reason && !st->mention)
		return;
	if (st->mention && *st->mention)
		gantry_buf_addf(&b, "%s\n", st->mention);
	if (stage) {
		gantry_buf_adds(&b, "*Failed stage:* `");
		add_escaped(&b, stage, 100);
		gantry_buf_adds(&b, "`\n");
	}
	if (reason) {
		size_t line = strcspn(reason, "\n");

		gantry_buf_adds(&b, "*Reason:* ");
		add_escaped(&b, reason, line < SLACK_REASON_MAX ?
			     line : SLACK_REASON_MAX);
		if (reason[line] && line < SLACK_REASON_MAX)
			gantry_buf_adds(&b, " ...");
	}
	sec = gantry_json_push_object(blocks);
	gantry_json_set_string(sec, "type", "section");
	t = gantry_json_set_object(sec, "text");
	gantry_json_set_string(t, "type", "mrkdwn");
	gantry_json_set_string(t, "text", b.buf);
	gantry_buf_release(&b);
}

/* An approval event's section: the message and the exact commands that
   decide (requested), or who decided and why. */
static void add_approval(struct gantry_json *blocks,
			 const struct gantry_event *ev)
{
	const char *name = gantry_event_name(ev);
	const char *message = gantry_event_get(ev, "message");
	const char *approvers = gantry_event_get(ev, "approvers");
	const char *by = gantry_event_get(ev, "by");
	const char *reason = gantry_event_get(ev, "reason");
	const char *approve = gantry_event_get(ev, "command");
	const char *reject = gantry_event_get(ev, "reject_command");
	struct gantry_json *sec, *t;
	struct gantry_buf b = GANTRY_BUF_INIT;

	if (!name || strncmp(name, "approval.", 9))
		return;
	if (message && *message) {
		gantry_buf_adds(&b, "*Message:* ");
		add_escaped(&b, message, SLACK_REASON_MAX);
		gantry_buf_adds(&b, "\n");
	}
	if (!strcmp(name, "approval.requested")) {
		gantry_buf_adds(&b, "*Approve:* `");
		add_escaped(&b, approve ? approve : "?", 300);
		gantry_buf_adds(&b, "`\n*Reject:* `");
		add_escaped(&b, reject ? reject : "?", 300);
		gantry_buf_adds(&b, "`");
		if (approvers && *approvers) {
			gantry_buf_adds(&b, "\n*Approvers:* ");
			add_escaped(&b, approvers, 300);
		}
	} else {
		gantry_buf_addf(&b, "*%s by:* ",
				strcmp(name, "approval.granted") ?
				"Rejected" : "Approved");
		add_escaped(&b, by ? by : "?", 100);
		if (reason && *reason) {
			gantry_buf_adds(&b, "\n*Reason:* ");
			add_escaped(&b, reason, SLACK_REASON_MAX);
		}
	}
	sec = gantry_json_push_object(blocks);
	gantry_json_set_string(sec, "type", "section");
	t = gantry_json_set_object(sec, "text");
	gantry_json_set_string(t, "type", "mrkdwn");
	gantry_json_set_string(t, "text", b.buf);
	gantry_buf_release(&b);
}

/* The fallback text's tail for an approval event: the command that
   approves, or why it was rejected. */
static void add_approval_text(struct gantry_buf *b,
			      const struct gantry_event *ev)
{
	const char *name = gantry_event_name(ev);
	const char *cmd = gantry_event_get(ev, "command");
	const char *reason = gantry_event_get(ev, "reason");

	if (!name)
		return;
	if (!strcmp(name, "approval.requested") && cmd) {
		gantry_buf_adds(b, ": ");
		add_escaped(b, cmd, 300);
	} else if (!strcmp(name, "approval.rejected") && reason && *reason) {
		gantry_buf_adds(b, ": ");
		add_escaped(b, reason, SLACK_TEXT_REASON_MAX);
	}
}

static void add_links(struct gantry_json *blocks, const struct slack_state *st)
{
	size_t i, n = gantry_config_length(st->links);
	struct gantry_json *ctxb, *elems, *e;
	struct gantry_buf b = GANTRY_BUF_INIT;

	if (!n)
		return;
	for (i = 0; i < n; i++) {
		const struct gantry_config *l = gantry_config_at(st->links, i);
		const char *url = gantry_config_text(l);

		if (!url || !*url)
			continue;
		if (b.len)
			gantry_buf_adds(&b, "  |  ");
		gantry_buf_adds(&b, "<");
		add_escaped(&b, url, 1000);
		gantry_buf_adds(&b, "|");
		add_escaped(&b, gantry_config_name(l), 100);
		gantry_buf_adds(&b, ">");
	}
	if (!b.len)
		return;
	ctxb = gantry_json_push_object(blocks);
	gantry_json_set_string(ctxb, "type", "context");
	elems = gantry_json_set_array(ctxb, "elements");
	e = gantry_json_push_object(elems);
	gantry_json_set_string(e, "type", "mrkdwn");
	gantry_json_set_string(e, "text", b.buf);
	gantry_buf_release(&b);
}

/* ": stage 'smoke': first line of the reason", for the fallback text
   (what notifications show). */
static void add_reason(struct gantry_buf *b, const struct gantry_event *ev)
{
	const char *name = gantry_event_name(ev);
	const char *stage = gantry_event_get(ev, "stage");
	const char *reason = gantry_event_get(ev, "reason");
	size_t line;

	if (!reason || !*reason)
		return;
	gantry_buf_adds(b, ": ");
	/* A stage event's headline names the stage already. */
	if (stage && !(name && !strncmp(name, "stage.", 6))) {
		gantry_buf_adds(b, "stage '");
		add_escaped(b, stage, 100);
		gantry_buf_adds(b, "': ");
	}
	line = strcspn(reason, "\n");
	add_escaped(b, reason, line < SLACK_TEXT_REASON_MAX ? line :
		    SLACK_TEXT_REASON_MAX);
}

/* The message: a `text` fallback (what notifications show) and Block
   Kit blocks. */
static struct gantry_json *build_message(const struct slack_state *st,
					 const struct gantry_ctx *ctx,
					 const struct gantry_event *ev)
{
	const struct outcome *o = outcome_of(ev);
	struct gantry_json *msg = gantry_json_new_object();
	struct gantry_json *blocks;
	struct gantry_buf head = GANTRY_BUF_INIT, text = GANTRY_BUF_INIT;

	if (!msg)
		return NULL;
	headline(&head, ctx, o, ev);
	/* The fallback is mrkdwn like the blocks: only the configured
	   mention is markup, everything else escaped. */
	if (o->failure && st->mention && *st->mention)
		gantry_buf_addf(&text, "%s ", st->mention);
	add_escaped(&text, head.buf, head.len);
	if (o->failure)
		add_reason(&text, ev);
	add_approval_text(&text, ev);
	gantry_json_set_string(msg, "text", text.buf);
	blocks = gantry_json_set_array(msg, "blocks");
	add_header(blocks, o->emoji, head.buf);
	add_facts(blocks, ctx, o, ev);
	if (o->failure)
		add_failure(blocks, st, ev);
	add_approval(blocks, ev);
	add_links(blocks, st);
	if (st->username)
		gantry_json_set_string(msg, "username", st->username);
	if (st->icon)
		gantry_json_set_string(msg, "icon_emoji", st->icon);
	gantry_buf_release(&head);
	gantry_buf_release(&text);
	return msg;
}

/* POSTs doc as JSON; the request (answered, whatever its status) in
   *out, or a gantry_fail code. */
static int post(const char *url, const char *token, struct gantry_json *doc,
		struct gantry_ctx *ctx, const char *what,
		struct gantry_http **out)
{
	struct gantry_http *req = gantry_http_new("POST", url);
	const char *body = gantry_json_text(doc, 0);
	long left = gantry_ctx_remaining(ctx);
	int rc;

	*out = NULL;
	if (!req || !body) {
		gantry_http_free(req);
		return gantry_fail(ctx, GANTRY_EFAIL, "out of memory");
	}
	gantry_http_header(req, "Content-Type",
			   "application/json; charset=utf-8");
	if (token) {
		struct gantry_buf auth = GANTRY_BUF_INIT;

		gantry_buf_addf(&auth, "Bearer %s", token);
		gantry_http_header(req, "Authorization", auth.buf);
		gantry_buf_release(&auth);
	}
	gantry_http_body(req, body, strlen(body));
	gantry_http_attempts(req, SLACK_ATTEMPTS);
	gantry_http_timeout_ms(req, left > 0 && left * 1000 < SLACK_TIMEOUT_MS ?
			       left * 1000 : SLACK_TIMEOUT_MS);
	rc = gantry_http_perform(req, ctx);
	if (rc < 0) {
		rc = gantry_fail(ctx, rc, "cannot deliver to %s: %s", what,
				 gantry_http_error(req));
		gantry_http_free(req);
		return rc;
	}
	*out = req;
	return GANTRY_OK;
}

static int send_webhook(const struct slack_state *st, struct gantry_ctx *ctx,
			struct gantry_json *msg)
{
	struct gantry_http *req;
	const char *body;
	long status;
	size_t len;
	int rc;

	rc = post(st->webhook, NULL, msg, ctx, "the slack webhook", &req);
	if (rc < 0)
		return rc;
	status = gantry_http_status(req);
	body = gantry_http_response(req, &len);
	if (status < 200 || status > 299)
		rc = gantry_fail(ctx, GANTRY_EFAIL,
			"the slack webhook answered %ld '%.100s'; check "
			"webhook_url (404 no_service or 403 invalid_token: "
			"the webhook was revoked)", status, body);
	gantry_http_free(req);
	return rc;
}

/* ---- the Web API: one message per deploy -------------------------------- */

/* Where the channel and ts of this deploy's message live between events. */
static char *ts_path(const struct gantry_ctx *ctx)
{
	const char *dir = getenv("TMPDIR");
	const char *id = ctx_or(ctx, "deploy.id", "unknown");
	const char *entry = gantry_ctx_stage(ctx);
	struct gantry_buf b = GANTRY_BUF_INIT;
	const char *p;

	gantry_buf_addf(&b, "%s/gantry-slack-", dir && *dir == '/' ? dir : "/tmp");
	/* Keep the name a plain file name, whatever the id holds. */
	for (p = id; *p; p++)
		gantry_buf_add(&b, strchr("/.", *p) ? "_" : p, 1);
	gantry_buf_adds(&b, "-");
	for (p = entry ? entry : "slack-notify"; *p; p++)
		gantry_buf_add(&b, strchr("/.", *p) ? "_" : p, 1);
	gantry_buf_adds(&b, ".ts");
	return gantry_buf_detach(&b);
}

/* Copies the word at *p (up to a space or newline) into out; 0 when it
   is not empty and fits. */
static int take_word(const char **p, char *out, size_t outlen)
{
	size_t n = strcspn(*p, " \n");

	if (!n || n >= outlen)
		return -1;
	memcpy(out, *p, n);
	out[n] = '\0';
	*p += n;
	while (**p == ' ')
		(*p)++;
	return 0;
}

/* Reads "channel ts" saved by an earlier event; 0 when there is one. */
static int ts_load(const char *path, char *channel, size_t clen, char *ts,
		   size_t tlen, struct gantry_ctx *ctx)
{
	char buf[256];
	const char *p = buf;
	struct stat sb;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_uid != geteuid() || (sb.st_mode & 077)) {
		gantry_warn(ctx, "ignoring '%s': not a private file of ours",
			    path);
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (take_word(&p, channel, clen) < 0 || take_word(&p, ts, tlen) < 0)
		return -1;
	return 0;
}

static void ts_save(const char *path, const char *channel, const char *ts,
		    struct gantry_ctx *ctx)
{
	char line[256];
	int fd, n;

	n = snprintf(line, sizeof(line), "%s %s\n", channel, ts);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0 || write(fd, line, (size_t)n) != n)
		gantry_warn(ctx, "cannot keep the message's ts in '%s' (%s); "
			    "later events post new messages", path,
			    strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Why a Web API error happened, as a hint. */
static const char *api_hint(const char *error)
{
	if (!strcmp(error, "invalid_auth") || !strcmp(error, "not_authed") ||
	    !strcmp(error, "token_revoked") ||
	    !strcmp(error, "account_inactive"))
		return "check option 'token'";
	if (!strcmp(error, "channel_not_found") ||
	    !strcmp(error, "not_in_channel"))
		return "check option 'channel' and invite the bot to it";
	if (!strcmp(error, "missing_scope"))
		return "give the bot the chat:write scope";
	return "see https://api.slack.com/methods";
}

/*
 * Calls api_url/METHOD with msg; on {"ok": true} the parsed answer in
 * *answer.  *error gets Slack's error word (static or in *answer) for
 * the caller to act on, with the failure already recorded.
 */
static int call_api(const struct slack_state *st, struct gantry_ctx *ctx,
		    const char *method, struct gantry_json *msg,
		    struct gantry_json **answer, const char **error)
{
	struct gantry_http *req;
	struct gantry_json *doc;
	struct gantry_buf url = GANTRY_BUF_INIT;
	const char *body;
	char err[128];
	size_t len;
	int rc;

	*answer = NULL;
	*error = "";
	gantry_buf_addf(&url, "%s/%s", st->api_url, method);
	rc = post(url.buf, st->token, msg, ctx, url.buf, &req);
	if (rc < 0) {
		gantry_buf_release(&url);
		return rc;
	}
	body = gantry_http_response(req, &len);
	doc = gantry_json_parse(body, len, err, sizeof(err));
	if (gantry_http_status(req) != 200 || !doc) {
		rc = gantry_fail(ctx, GANTRY_EFAIL,
			"slack %s answered %ld%s%s; check api_url", method,
			gantry_http_status(req), doc ? "" : ", not JSON: ",
			doc ? "" : err);
	} else if (!gantry_json_bool(doc, "ok", 0)) {
		*error = gantry_json_string(doc, "error", "unknown_error");
		rc = gantry_fail(ctx, GANTRY_EFAIL, "slack %s failed: %s; %s",
				 method, *error, api_hint(*error));
	}
	gantry_http_free(req);
	gantry_buf_release(&url);
	*answer = doc;
	return rc;
}

static int send_api(const struct slack_state *st, struct gantry_ctx *ctx,
		    struct gantry_json *msg, int final)
{
	struct gantry_json *answer = NULL;
	char channel[96], ts[64];
	char *path = ts_path(ctx);
	const char *error;
	int rc = GANTRY_EFAIL, have;

	have = ts_load(path, channel, sizeof(channel), ts, sizeof(ts),
		       ctx) == 0;
	if (have) {
		gantry_json_set_string(msg, "channel", channel);
		gantry_json_set_string(msg, "ts", ts);
		rc = call_api(st, ctx, "chat.update", msg, &answer, &error);
		/* The message is gone (deleted by hand): start a new one. */
		if (rc < 0 && !strcmp(error, "message_not_found"))
			have = 0;
		gantry_json_free(answer);
		answer = NULL;
	}
	if (!have) {
		gantry_json_set_string(msg, "channel", st->channel);
		rc = call_api(st, ctx, "chat.postMessage", msg, &answer,
			      &error);
		if (rc == GANTRY_OK && !final)
			ts_save(path, gantry_json_string(answer, "channel",
							 st->channel),
				gantry_json_string(answer, "ts", ""), ctx);
		gantry_json_free(answer);
	}
	if (final)
		unlink(path);
	free(path);
	return rc;
}

static int slack_event(void *state, struct gantry_ctx *ctx,
		       const struct gantry_event *ev)
{
	const struct slack_state *st = state;
	struct gantry_json *msg = build_message(st, ctx, ev);
	int rc;

	if (!msg)
		return gantry_fail(ctx, GANTRY_EFAIL, "out of memory");
	if (st->webhook)
		rc = send_webhook(st, ctx, msg);
	else
		rc = send_api(st, ctx, msg, outcome_of(ev)->final);
	gantry_json_free(msg);
	return rc;
}

static const struct gantry_stage slack_stage = {
	GANTRY_STAGE_HEADER,
	.name = "slack-notify",
	.version = PACKAGE_VERSION,
	.summary = "tell a Slack channel how deploys go (webhook or Web API)",
	.kind = GANTRY_KIND_NOTIFIER,
	.options = slack_options,
	.init = slack_init,
	.fini = slack_fini,
	.event = slack_event,
};

GANTRY_STAGE_EXPORT(slack_stage)
