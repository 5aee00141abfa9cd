/*
 * checks.c - the smoke stage's options read into checks: the `url`
 * shortcut and the `checks` groups with their expectations (expect_json
 * as a group, nested groups joined with dots, or as a list of "path =
 * value"), the retry settings and TLS; what cannot work is refused.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smoke.h"

#include "banned.h"

/* Keys of a group in `checks`. */
static const char *const check_keys[] = {
	"url", "method", "headers", "expect_status", "expect_body",
	"expect_json", "timeout", NULL
};

void smoke_state_free(struct smoke_state *st)
{
	size_t i, j;

	if (!st)
		return;
	for (i = 0; i < st->n; i++) {
		struct check *ck = &st->checks[i];

		for (j = 0; j < ck->njson; j++)
			free(ck->json[j].path);
		free(ck->json);
		for (j = 0; j < ck->tries; j++)
			free(ck->results[j]);
		free(ck->results);
	}
	free(st->checks);
	free(st->ca_file);
	free(st->latency);
	free(st);
}

static const char *where_of(const struct gantry_config *parent,
			    const char *key)
{
	const struct gantry_config *c = gantry_config_lookup(parent, key);

	return gantry_config_where(c ? c : parent);
}

static int known_check_key(const char *key)
{
	size_t i;

	for (i = 0; check_keys[i]; i++)
		if (!strcmp(key, check_keys[i]))
			return 1;
	return 0;
}

static void add_expectation(struct check *ck, const char *path,
			    const char *want)
{
	ck->json = gantry_xrealloc(ck->json,
				   (ck->njson + 1) * sizeof(*ck->json));
	ck->json[ck->njson].path = gantry_xstrdup(path);
	ck->json[ck->njson].want = want;
	ck->njson++;
}

/* expect_json as a group: `version = "..."`, nested groups joined with
   dots (`build = { commit = "..."; }` is "build.commit"). */
static int json_group(struct check *ck, const struct gantry_config *g,
		      const char *prefix, struct gantry_ctx *ctx)
{
	size_t i;

	for (i = 0; i < gantry_config_length(g); i++) {
		const struct gantry_config *v = gantry_config_at(g, i);
		struct gantry_buf path = GANTRY_BUF_INIT;
		char *p;
		int rc = GANTRY_OK;

		if (prefix)
			gantry_buf_addf(&path, "%s.", prefix);
		gantry_buf_addf(&path, "%s", gantry_config_name(v));
		p = gantry_buf_detach(&path);
		if (gantry_config_type(v) == GANTRY_OPT_GROUP)
			rc = json_group(ck, v, p, ctx);
		else if (gantry_config_text(v))
			add_expectation(ck, p, gantry_config_text(v));
		else
			rc = gantry_fail(ctx, GANTRY_ECONFIG,
				"%s: expect_json.%s must be a value or a "
				"group, not a list", gantry_config_where(v), p);
		free(p);
		if (rc < 0)
			return rc;
	}
	return GANTRY_OK;
}

/* expect_json as a list of "path = value" strings, for paths a libconfig
   name cannot spell ("items[0].id"). */
static int json_list(struct check *ck, const struct gantry_config *l,
		     struct gantry_ctx *ctx)
{
	size_t i;

	for (i = 0; i < gantry_config_length(l); i++) {
		const struct gantry_config *v = gantry_config_at(l, i);
		const char *text = gantry_config_text(v);
		const char *eq = text ? strchr(text, '=') : NULL;
		const char *end, *val;
		struct gantry_buf path = GANTRY_BUF_INIT;
		char *p;

		if (!eq || eq == text)
			return gantry_fail(ctx, GANTRY_ECONFIG,
				"%s: expect_json[%zu] must read \"path = "
				"value\", e.g. \"items[0].version = 1.2.0\"",
				gantry_config_where(v), i);
		for (end = eq; end > text && end[-1] == ' '; end--)
			;
		for (val = eq + 1; *val == ' '; val++)
			;
		gantry_buf_addf(&path, "%.*s", (int)(end - text), text);
		p = gantry_buf_detach(&path);
		add_expectation(ck, p, val);
		free(p);
	}
	return GANTRY_OK;
}

static int valid_method(const char *m)
{
	const char *p;

	for (p = m; *p; p++)
		if (*p < 'A' || *p > 'Z')
			return 0;
	return p != m;
}

static int parse_check(struct check *ck, const struct gantry_config *g,
		       size_t index, struct gantry_ctx *ctx)
{
	const char *where = gantry_config_where(g);
	const struct gantry_config *ej;
	long long status, timeout;
	size_t i;

	for (i = 0; i < gantry_config_length(g); i++) {
		const char *key = gantry_config_name(gantry_config_at(g, i));

		if (!known_check_key(key))
			return gantry_fail(ctx, GANTRY_ECONFIG,
				"%s: checks[%zu] has no key '%s'; use url, "
				"method, headers, expect_status, expect_body, "
				"expect_json, timeout",
				gantry_config_where(gantry_config_at(g, i)),
				index, key);
	}
	ck->url = gantry_config_string(g, "url", NULL);
	if (!ck->url || (strncmp(ck->url, "http://", 7) &&
			 strncmp(ck->url, "https://", 8)))
		return gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: checks[%zu] needs a url starting with http:// or "
			"https://%s%s%s", where, index,
			ck->url ? ", not '" : "", ck->url ? ck->url : "",
			ck->url ? "'" : "");
	ck->method = gantry_config_string(g, "method", "GET");
	if (!valid_method(ck->method))
		return gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: checks[%zu].method '%s' is not an HTTP method; "
			"use GET, HEAD, POST...", where_of(g, "method"), index,
			ck->method);
	ck->headers = gantry_config_lookup(g, "headers");
	if (ck->headers && gantry_config_type(ck->headers) != GANTRY_OPT_GROUP)
		return gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: checks[%zu].headers must be a group of "
			"Name = \"value\"", where_of(g, "headers"), index);
	for (i = 0; i < gantry_config_length(ck->headers); i++)
		if (!gantry_config_text(gantry_config_at(ck->headers, i)))
			return gantry_fail(ctx, GANTRY_ECONFIG,
				"%s: header '%s' must be a string",
				where_of(g, "headers"), gantry_config_name(
					gantry_config_at(ck->headers, i)));
	status = gantry_config_int(g, "expect_status", 200);
	if (status < 100 || status > 599)
		return gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: checks[%zu].expect_status %lld is not an HTTP "
			"status (100-599)", where_of(g, "expect_status"), index,
			status);
	ck->want_status = (long)status;
	ck->want_body = gantry_config_string(g, "expect_body", NULL);
	timeout = gantry_config_int(g, "timeout", 5);
	if (timeout < 1 || timeout > 3600)
		return gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: checks[%zu].timeout must be 1 to 3600 seconds, "
			"not %lld", where_of(g, "timeout"), index, timeout);
	ck->timeout_ms = (long)timeout * 1000;

	ej = gantry_config_lookup(g, "expect_json");
	if (!ej)
		return GANTRY_OK;
	if (gantry_config_type(ej) == GANTRY_OPT_GROUP)
		return json_group(ck, ej, NULL, ctx);
	if (gantry_config_type(ej) == GANTRY_OPT_LIST)
		return json_list(ck, ej, ctx);
	return gantry_fail(ctx, GANTRY_ECONFIG,
		"%s: checks[%zu].expect_json must be a group of path = value, "
		"e.g. { version = \"${release.version}\"; }",
		gantry_config_where(ej), index);
}

static struct check *new_check(struct smoke_state *st)
{
	struct check *ck;

	st->checks = gantry_xrealloc(st->checks,
				     (st->n + 1) * sizeof(*st->checks));
	ck = &st->checks[st->n++];
	memset(ck, 0, sizeof(*ck));
	return ck;
}

static int read_tls(struct smoke_state *st, const struct gantry_config *cfg,
		    struct gantry_ctx *ctx)
{
	const char *env = gantry_ctx_get(ctx, "release.environment");
	const char *ca = gantry_config_string(cfg, "ca_file", NULL);
	const char *dir = gantry_ctx_get(ctx, "config.dir");

	st->insecure = gantry_config_bool(cfg, "insecure", 0);
	if (st->insecure && env && !strcmp(env, "production") &&
	    !gantry_config_bool(cfg, "insecure_production", 0))
		return gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: insecure = true turns TLS verification off and is "
			"refused for production; give the CA with ca_file, or "
			"set insecure_production = true as well if you really "
			"mean it", where_of(cfg, "insecure"));
	if (!ca || !*ca)
		return GANTRY_OK;
	if (ca[0] != '/' && dir && *dir) {
		struct gantry_buf b = GANTRY_BUF_INIT;

		gantry_buf_addf(&b, "%s/%s", dir, ca);
		st->ca_file = gantry_buf_detach(&b);
	} else {
		st->ca_file = gantry_xstrdup(ca);
	}
	if (access(st->ca_file, R_OK) < 0)
		return gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: ca_file '%s' cannot be read: %s",
			where_of(cfg, "ca_file"), st->ca_file,
			strerror(errno));
	return GANTRY_OK;
}

int smoke_read_config(struct smoke_state *st, const struct gantry_config *cfg,
		      struct gantry_ctx *ctx)
{
	const struct gantry_config *list = gantry_config_lookup(cfg, "checks");
	const char *url = gantry_config_string(cfg, "url", NULL);
	size_t i;
	int rc;

	if (url && *url) {
		struct check *ck = new_check(st);

		if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
			rc = gantry_fail(ctx, GANTRY_ECONFIG,
				"%s: option 'url' must start with http:// or "
				"https://, not '%s'", where_of(cfg, "url"),
				url);
			return rc;
		}
		ck->url = url;
		ck->method = "GET";
		ck->want_status = 200;
		ck->timeout_ms = 5000;
	}
	for (i = 0; i < gantry_config_length(list); i++) {
		const struct gantry_config *g = gantry_config_at(list, i);

		if (gantry_config_type(g) != GANTRY_OPT_GROUP) {
			rc = gantry_fail(ctx, GANTRY_ECONFIG,
				"%s: checks[%zu] must be a group, e.g. { url = "
				"\"https://api.example.com/healthz\"; }",
				gantry_config_where(g), i);
			return rc;
		}
		rc = parse_check(new_check(st), g, i, ctx);
		if (rc < 0)
			return rc;
	}
	if (!st->n) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: stage '%s' has nothing to check; set url or "
			"checks", gantry_config_where(cfg),
			gantry_ctx_stage(ctx));
		return rc;
	}

	/* The ranges are the descriptor's (smoke.c), enforced by the core. */
	st->attempts = (unsigned)gantry_config_int(cfg, "attempts", 10);
	st->interval_ms = (long)gantry_config_int(cfg, "interval", 3) * 1000;
	st->consecutive = (unsigned)gantry_config_int(cfg, "consecutive", 1);
	if (st->consecutive > st->attempts) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG,
			"%s: consecutive = %u can never pass within attempts "
			"= %u; raise attempts", where_of(cfg, "consecutive"),
			st->consecutive, st->attempts);
		return rc;
	}
	if (gantry_config_lookup(cfg, "latency_budget_ms"))
		st->budget_ms = (long)gantry_config_int(cfg,
							"latency_budget_ms", 0);
	return read_tls(st, cfg, ctx);
}
