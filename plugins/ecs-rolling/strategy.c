/*
 * strategy.c - the ECS-native deployment strategies (ROLLING, BLUE_GREEN,
 * LINEAR, CANARY) as options: reading and cross-checking them, the
 * members of deploymentConfiguration sent for them, the service's load
 * balancer settings they need, and their plan lines.
 *
 * Times are given in seconds like every other gantry option and rounded
 * up to ECS's minutes.  Percents are strings with at most one decimal
 * ("2.5", or a libconfig float such as 2.5, which reaches a stage as
 * text): ECS counts them in tenths.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

#include "banned.h"

/* A PAUSE hook the stage adds waits this long, then ECS rolls back:
   longer than any pipeline's wait between the pause and its continue
   (an approval included), short enough that an abandoned pause does
   not hold the service for ECS's default of 14 days. */
#define PAUSE_TIMEOUT_MINUTES 1440

static const char *const api_names[] = {
	"ROLLING", "BLUE_GREEN", "LINEAR", "CANARY"
};
static const char *const words[] = {
	"rolling", "blue_green", "linear", "canary"
};

const char *ecs_strategy_api(int s)
{
	return s >= 0 && s <= S_CANARY ? api_names[s] : "ROLLING";
}

const char *ecs_strategy_word(int s)
{
	return s >= 0 && s <= S_CANARY ? words[s] : "rolling";
}

int ecs_strategy_of(const char *api)
{
	int i;

	if (!api || !*api)
		return S_ROLLING;
	for (i = 0; i <= S_CANARY; i++)
		if (!strcmp(api, api_names[i]) || !strcmp(api, words[i]))
			return i;
	return -1;
}

static long long minutes(long long seconds)
{
	return (seconds + 59) / 60;
}

/* "12.5" -> 125, "5" -> 50; -1 unless digits with at most one decimal. */
static int tenths(const char *s)
{
	long v = 0;
	int digits = 0;

	while (isdigit((unsigned char)*s) && digits < 5) {
		v = v * 10 + (*s++ - '0');
		digits++;
	}
	if (!digits)
		return -1;
	v *= 10;
	if (*s == '.' && isdigit((unsigned char)s[1])) {
		v += s[1] - '0';
		s += 2;
	}
	return *s ? -1 : (int)v;
}

static int percent(struct ecs *e, const struct gantry_config *cfg,
		   const char *key, int lo, int *out)
{
	const char *v = gantry_config_string(cfg, key, NULL);

	*out = -1;
	if (!v)
		return GANTRY_OK;
	*out = tenths(v);
	if (*out < lo || *out > 1000)
		return gantry_fail(e->ctx, GANTRY_ECONFIG, "%s: option '%s' = "
			"'%s' must be a percent from %d.%d to 100 with at most "
			"one decimal (\"2.5\", 2.5 or \"5\")",
			gantry_config_where(gantry_config_lookup(cfg, key)),
			key, v, lo / 10, lo % 10);
	return GANTRY_OK;
}

/* An option set for a strategy other than the chosen one. */
static int foreign(struct ecs *e, const struct gantry_config *cfg,
		   const char *key, int owner)
{
	const struct gantry_config *c = gantry_config_lookup(cfg, key);

	if (!c || e->o.strategy == owner)
		return GANTRY_OK;
	return gantry_fail(e->ctx, GANTRY_ECONFIG, "%s: option '%s' belongs to "
		"strategy %s, and strategy is %s; remove '%s' or set strategy "
		"= \"%s\"", gantry_config_where(c), key, words[owner],
		words[e->o.strategy], key, words[owner]);
}

int ecs_strategy_read(struct ecs *e, const struct gantry_config *cfg)
{
	struct ecs_opts *o = &e->o;
	const struct gantry_config *pause = gantry_config_lookup(cfg,
								 "pause_at");

	/* strategy and pause_at are within the rules: the core checked. */
	o->strategy = ecs_strategy_of(gantry_config_string(cfg, "strategy",
							   "rolling"));
	if (o->strategy < 0)
		o->strategy = S_ROLLING;
	o->pause_at = gantry_config_string(cfg, "pause_at", NULL);
	if (o->pause_at && !*o->pause_at)
		o->pause_at = NULL;
	o->canary_bake = gantry_config_int(cfg, "canary_bake_time", -1);
	o->linear_bake = gantry_config_int(cfg, "linear_step_bake_time", -1);
	if (percent(e, cfg, "canary_percent", 1, &o->canary_tenths) < 0 ||
	    percent(e, cfg, "linear_step_percent", 30, &o->linear_tenths) < 0 ||
	    foreign(e, cfg, "canary_percent", S_CANARY) < 0 ||
	    foreign(e, cfg, "canary_bake_time", S_CANARY) < 0 ||
	    foreign(e, cfg, "linear_step_percent", S_LINEAR) < 0 ||
	    foreign(e, cfg, "linear_step_bake_time", S_LINEAR) < 0)
		return GANTRY_ECONFIG;
	if (o->pause_at && !strcmp(o->mode, "continue"))
		return gantry_fail(e->ctx, GANTRY_ECONFIG, "%s: option "
			"'pause_at' does nothing with mode = \"continue\" (it "
			"continues the pause an earlier entry made); set it on "
			"the pausing entry only", gantry_config_where(pause));
	if (o->pause_at && o->strategy == S_ROLLING &&
	    !strcmp(o->mode, "update"))
		return gantry_fail(e->ctx, GANTRY_ECONFIG, "%s: option "
			"'pause_at' needs strategy blue_green, linear or canary, "
			"and strategy is rolling (ECS runs no lifecycle hooks in "
			"rolling deployments); set strategy or remove pause_at",
			gantry_config_where(pause));
	return GANTRY_OK;
}

static void add_tenths(struct gantry_buf *b, int t)
{
	gantry_buf_addf(b, "%d.%d", t / 10, t % 10);
}

void ecs_strategy_hooks(struct ecs *e, struct gantry_buf *b, int pause)
{
	struct gantry_json *hooks = e->svc_hooks ?
		gantry_json_parse(e->svc_hooks, strlen(e->svc_hooks), NULL, 0) :
		NULL;
	size_t i;
	int n = 0;

	gantry_buf_adds(b, "[");
	for (i = 0; i < gantry_json_length(hooks); i++) {
		struct gantry_json *h = gantry_json_at(hooks, i);

		if (!strcmp(gantry_json_string(h, "targetType", ""), "PAUSE"))
			continue;
		gantry_buf_adds(b, n++ ? "," : "");
		gantry_buf_adds(b, gantry_json_text(h, 0));
	}
	if (pause && e->o.pause_at) {
		gantry_buf_adds(b, n++ ? "," : "");
		gantry_buf_adds(b, "{\"targetType\":\"PAUSE\",\"lifecycleStages\":[");
		gantry_buf_add_json(b, e->o.pause_at);
		gantry_buf_addf(b, "],\"timeoutConfiguration\":{\"timeoutInMinutes\""
				":%d,\"action\":\"ROLLBACK\"}}",
				PAUSE_TIMEOUT_MINUTES);
	}
	gantry_buf_adds(b, "]");
	gantry_json_free(hooks);
}

void ecs_strategy_members(struct ecs *e, struct gantry_buf *b)
{
	const struct ecs_opts *o = &e->o;

	if (o->strategy == S_ROLLING) {
		/* ROLLING is ECS's default: named only to switch a service
		   back, so that a rolling deploy sends what it sent before
		   strategies existed (partitions without them included). */
		if (e->svc_strategy && strcmp(e->svc_strategy, "ROLLING"))
			gantry_buf_adds(b, ",\"strategy\":\"ROLLING\"");
		/* ECS refuses lifecycle hooks with ROLLING: those a
		   blue/green past left on the service go. */
		if (e->svc_hooks && strcmp(e->svc_hooks, "[]"))
			gantry_buf_adds(b, ",\"lifecycleHooks\":[]");
		return;
	}
	gantry_buf_addf(b, ",\"strategy\":\"%s\"", api_names[o->strategy]);
	/* Required with BLUE_GREEN; the wait after the production shift
	   for the other two. */
	gantry_buf_addf(b, ",\"bakeTimeInMinutes\":%lld",
			minutes(o->bake_time));
	if (o->strategy == S_CANARY &&
	    (o->canary_tenths >= 0 || o->canary_bake >= 0)) {
		gantry_buf_adds(b, ",\"canaryConfiguration\":{");
		if (o->canary_tenths >= 0) {
			gantry_buf_adds(b, "\"canaryPercent\":");
			add_tenths(b, o->canary_tenths);
		}
		if (o->canary_bake >= 0)
			gantry_buf_addf(b, "%s\"canaryBakeTimeInMinutes\":%lld",
					o->canary_tenths >= 0 ? "," : "",
					minutes(o->canary_bake));
		gantry_buf_adds(b, "}");
	}
	if (o->strategy == S_LINEAR &&
	    (o->linear_tenths >= 0 || o->linear_bake >= 0)) {
		gantry_buf_adds(b, ",\"linearConfiguration\":{");
		if (o->linear_tenths >= 0) {
			gantry_buf_adds(b, "\"stepPercent\":");
			add_tenths(b, o->linear_tenths);
		}
		if (o->linear_bake >= 0)
			gantry_buf_addf(b, "%s\"stepBakeTimeInMinutes\":%lld",
					o->linear_tenths >= 0 ? "," : "",
					minutes(o->linear_bake));
		gantry_buf_adds(b, "}");
	}
	/* The stage's pause replaces the service's PAUSE hooks (a pause
	   nobody continues would hold the deployment until its timeout);
	   the service's Lambda hooks stay. */
	if (o->pause_at || e->svc_pauses) {
		gantry_buf_adds(b, ",\"lifecycleHooks\":");
		ecs_strategy_hooks(e, b, 1);
	}
}

static const char *const adv_required[] = {
	"alternateTargetGroupArn", "productionListenerRule", "roleArn", NULL
};

/* The first load balancer with advancedConfiguration, else the first. */
static struct gantry_json *traffic_lb(const struct ecs_snap *s)
{
	struct gantry_json *lbs = gantry_json_get(s->svc, "loadBalancers");
	size_t i;

	for (i = 0; i < gantry_json_length(lbs); i++)
		if (gantry_json_get(gantry_json_at(lbs, i),
				    "advancedConfiguration"))
			return gantry_json_at(lbs, i);
	return gantry_json_at(lbs, 0);
}

/* What advancedConfiguration lacks, "" when nothing. */
static void missing(const struct ecs_snap *s, struct gantry_buf *b)
{
	struct gantry_json *lb = traffic_lb(s);
	struct gantry_json *adv = gantry_json_get(lb, "advancedConfiguration");
	size_t i;

	if (!lb) {
		gantry_buf_adds(b, "a load balancer (loadBalancers is empty) "
				"with advancedConfiguration (alternateTarget"
				"GroupArn, productionListenerRule, roleArn)");
		return;
	}
	if (!adv) {
		gantry_buf_adds(b, "loadBalancers[].advancedConfiguration "
				"(alternateTargetGroupArn, productionListener"
				"Rule, roleArn)");
		return;
	}
	for (i = 0; adv_required[i]; i++)
		if (!*gantry_json_string(adv, adv_required[i], ""))
			gantry_buf_addf(b, "%sadvancedConfiguration.%s",
					b->len ? ", " : "", adv_required[i]);
}

int ecs_strategy_check_lb(struct ecs *e, const struct ecs_snap *s)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	int rc = GANTRY_OK;

	if (e->o.strategy == S_ROLLING)
		return GANTRY_OK;
	missing(s, &b);
	if (b.len)
		rc = gantry_fail(e->ctx, GANTRY_ECONFIG, "strategy %s needs the "
			"service's load balancer traffic settings, and service "
			"'%s' lacks %s; add them where the service is defined "
			"(Terraform: load_balancer { advanced_configuration "
			"{...} }) or use strategy = \"rolling\"",
			words[e->o.strategy], e->o.service, b.buf);
	gantry_buf_release(&b);
	return rc;
}

static void plan_hooks(struct ecs *e)
{
	struct gantry_buf b = GANTRY_BUF_INIT, h = GANTRY_BUF_INIT;
	struct gantry_json *hooks;
	size_t i;

	ecs_strategy_hooks(e, &b, 1);
	hooks = gantry_json_parse(b.buf, b.len, NULL, 0);
	for (i = 0; i < gantry_json_length(hooks); i++) {
		struct gantry_json *x = gantry_json_at(hooks, i);
		struct gantry_json *st = gantry_json_get(x, "lifecycleStages");
		size_t j;

		gantry_buf_addf(&h, "%s%s", i ? "; " : "",
				gantry_json_string(x, "targetType", "?"));
		if (*gantry_json_string(x, "hookTargetArn", ""))
			gantry_buf_addf(&h, " %s", gantry_json_string(x,
					"hookTargetArn", ""));
		for (j = 0; j < gantry_json_length(st); j++)
			gantry_buf_addf(&h, "%s%s", j ? ", " : " at ",
				gantry_json_string(gantry_json_at(st, j), NULL,
						   "?"));
		if (gantry_json_get(x, "timeoutConfiguration"))
			gantry_buf_addf(&h, " (timeout %lld min, then %s)",
				gantry_json_int(x, "timeoutConfiguration."
						"timeoutInMinutes", 0),
				gantry_json_string(x, "timeoutConfiguration."
						   "action", "ROLLBACK"));
	}
	gantry_plan_line(e->ctx, "lifecycle hooks: %s", h.len ? h.buf : "none");
	if (e->o.pause_at)
		gantry_plan_line(e->ctx, "  would return once the deployment "
				 "pauses at %s (a later entry with mode = "
				 "\"continue\" resumes it)", e->o.pause_at);
	gantry_json_free(hooks);
	gantry_buf_release(&b);
	gantry_buf_release(&h);
}

void ecs_strategy_plan(struct ecs *e, const struct ecs_snap *s)
{
	const struct ecs_opts *o = &e->o;
	struct gantry_json *lb = traffic_lb(s);
	struct gantry_json *adv = gantry_json_get(lb, "advancedConfiguration");
	struct gantry_buf b = GANTRY_BUF_INIT;

	gantry_plan_line(e->ctx, "deployment strategy: %s (%s), bake time "
			 "%lld min after the production shift", words[o->strategy],
			 api_names[o->strategy], minutes(o->bake_time));
	if (o->strategy == S_CANARY) {
		if (o->canary_tenths >= 0)
			gantry_buf_addf(&b, "%d.%d %%", o->canary_tenths / 10,
					o->canary_tenths % 10);
		gantry_plan_line(e->ctx, "  canary: %s of production traffic "
			"for %s, then 100 %%", b.len ? b.buf : "ECS's default "
			"5.0 %", o->canary_bake >= 0 ? "" : "ECS's default 10 "
			"min");
		if (o->canary_bake >= 0)
			gantry_plan_line(e->ctx, "  canary bake time %lld min",
					 minutes(o->canary_bake));
	}
	if (o->strategy == S_LINEAR) {
		if (o->linear_tenths >= 0)
			gantry_buf_addf(&b, "%d.%d %%", o->linear_tenths / 10,
					o->linear_tenths % 10);
		gantry_plan_line(e->ctx, "  linear: %s more production traffic "
			"per step, %lld min between steps", b.len ? b.buf :
			"ECS's default 10.0 %", o->linear_bake >= 0 ?
			minutes(o->linear_bake) : 6LL);
	}
	gantry_plan_line(e->ctx, "circuit breaker %s, rollback %s%s",
			 o->circuit_breaker ? "on" : "off",
			 o->rollback ? "on" : "off", o->nalarms ?
			 "; alarms are ECS's rollback triggers" : "");
	plan_hooks(e);
	gantry_buf_reset(&b);
	missing(s, &b);
	if (b.len)
		gantry_plan_line(e->ctx, "would refuse: service '%s' lacks %s",
				 o->service, b.buf);
	else
		gantry_plan_line(e->ctx, "traffic (from the service): "
			"production listener rule %s, test listener rule %s, "
			"target groups %s (primary) and %s (alternate), role %s",
			gantry_json_string(adv, "productionListenerRule", "?"),
			gantry_json_string(adv, "testListenerRule",
					   "none (test traffic follows production)"),
			gantry_json_string(lb, "targetGroupArn", "?"),
			gantry_json_string(adv, "alternateTargetGroupArn", "?"),
			gantry_json_string(adv, "roleArn", "?"));
	gantry_buf_release(&b);
}
