/*
 * report_html.c - `gantry report --format html`: one self-contained page.
 *
 * No scripts, fonts or network: inline CSS and SVG only, so the file can
 * be mailed, archived as a CI artifact or opened offline.  Hover text is
 * SVG <title>.  Colours come from CSS variables switched by
 * prefers-color-scheme, and @media print turns the page into plain ink.
 * Every deploy mark carries class "deploy-mark" (and nothing else does):
 * tests count them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

/* Drawing sizes, in SVG user units (the SVG scales to the page width). */
#define W 1000
#define MARK_R 7
#define MAX_LANES 6
#define LABEL_W 190
#define TOTAL_W 70
#define BAR_H 16
#define BAR_GAP 6
#define MAX_BARS 200
#define STAGE_COLOURS 8

static const char css[] =
":root{--bg:#fff;--fg:#1d2330;--muted:#5d6678;--line:#d5d9e2;--card:#f4f6fa;"
"--ok:#1f8a4c;--fail:#c62828;--rb:#e07b00;--rbf:#7b1fa2;--to:#b8860b;"
"--fd:#d81b60;--int:#78808f;--run:#1e6fd9;"
"--s0:#3b6fd4;--s1:#2a9d8f;--s2:#e9a23b;--s3:#8e5bd0;--s4:#d1495b;"
"--s5:#5aa05a;--s6:#c0792e;--s7:#6c7a89;color-scheme:light dark}\n"
"@media (prefers-color-scheme:dark){:root{--bg:#14171d;--fg:#e6e9ef;"
"--muted:#9aa3b2;--line:#343a46;--card:#1d2129;--ok:#4cc37a;--fail:#ff6b6b;"
"--rb:#ffa64d;--rbf:#c58af0;--to:#e3c35a;--fd:#f06292;--int:#9aa3b2;"
"--run:#6aa8ff;--s0:#6f9bff;--s1:#4fc2b4;--s2:#f2bf63;--s3:#b28bf0;"
"--s4:#f07a8a;--s5:#82c882;--s6:#e0a060;--s7:#9fb0c2}}\n"
"*{box-sizing:border-box}\n"
"body{margin:0;padding:24px 32px;background:var(--bg);color:var(--fg);"
"font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif}\n"
"h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:0 0 12px}"
"h3{font-size:14px;margin:18px 0 6px;color:var(--muted);"
"text-transform:uppercase;letter-spacing:.04em}\n"
".sub{color:var(--muted);margin:0 0 20px}\n"
".group{border-top:1px solid var(--line);padding:20px 0}\n"
".cards{display:flex;flex-wrap:wrap;gap:10px}\n"
".card{background:var(--card);border-radius:6px;padding:8px 14px;"
"min-width:150px}\n"
".card b{display:block;font-size:20px}.card span{color:var(--muted);"
"font-size:12px}\n"
"svg{width:100%;height:auto;display:block}\n"
"svg text{fill:var(--muted);font-size:12px}\n"
"svg .axis{stroke:var(--line);stroke-width:1}\n"
".deploy-mark{stroke:var(--bg);stroke-width:1.5}\n"
".deploy-mark.reverted{stroke:var(--fail);stroke-dasharray:3 2;"
"stroke-width:2}\n"
".o-succeeded{fill:var(--ok);background:var(--ok)}"
".o-failed{fill:var(--fail);background:var(--fail)}"
".o-rolled_back{fill:var(--rb);background:var(--rb)}"
".o-rollback_failed{fill:var(--rbf);background:var(--rbf)}"
".o-timed_out{fill:var(--to);background:var(--to)}"
".o-failed_deployed{fill:var(--fd);background:var(--fd)}"
".o-interrupted{fill:var(--int);background:var(--int)}"
".o-running,.o-other{fill:var(--run);background:var(--run)}\n"
".s0{fill:var(--s0);background:var(--s0)}"
".s1{fill:var(--s1);background:var(--s1)}"
".s2{fill:var(--s2);background:var(--s2)}"
".s3{fill:var(--s3);background:var(--s3)}"
".s4{fill:var(--s4);background:var(--s4)}"
".s5{fill:var(--s5);background:var(--s5)}"
".s6{fill:var(--s6);background:var(--s6)}"
".s7{fill:var(--s7);background:var(--s7)}\n"
".legend{display:flex;flex-wrap:wrap;gap:14px;margin:6px 0;"
"color:var(--muted);font-size:12px}\n"
".legend i{display:inline-block;width:10px;height:10px;border-radius:50%;"
"margin-right:5px;vertical-align:-1px}\n"
".legend.stages i{border-radius:2px}\n"
"table{border-collapse:collapse;margin:4px 0}\n"
"th,td{text-align:left;padding:3px 14px 3px 0;border-bottom:1px solid "
"var(--line)}th{color:var(--muted);font-weight:600}td.n{text-align:right}\n"
"code{font-size:12px}\n"
".empty{color:var(--muted);font-style:italic}\n"
"@media print{:root{--bg:#fff;--fg:#000;--muted:#333;--line:#999;"
"--card:#fff}body{padding:0;font-size:11px}.card{border:1px solid #999}"
".group{break-inside:avoid-page}"
"*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

static void esc(struct gantry_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': gantry_buf_adds(b, "&amp;"); break;
		case '<': gantry_buf_adds(b, "&lt;"); break;
		case '>': gantry_buf_adds(b, "&gt;"); break;
		case '"': gantry_buf_adds(b, "&quot;"); break;
		case '\'': gantry_buf_adds(b, "&#39;"); break;
		default: gantry_buf_addch(b, *s);
		}
	}
}

/* The CSS class of an outcome word; unknown words share one. */
static const char *outcome_class(const char *w)
{
	static const char *const known[] = { "succeeded", "failed",
		"rolled_back", "rollback_failed", "timed_out",
		"failed_deployed", "interrupted", "running" };
	size_t i;

	for (i = 0; i < GANTRY_ARRAY_SIZE(known); i++)
		if (!strcmp(w, known[i]))
			return known[i];
	return "other";
}

static void card(struct gantry_buf *b, const char *value, const char *what)
{
	gantry_buf_adds(b, "<div class=\"card\"><b>");
	esc(b, value);
	gantry_buf_adds(b, "</b><span>");
	esc(b, what);
	gantry_buf_adds(b, "</span></div>\n");
}

static void cards(struct gantry_buf *b, const struct report_group *g)
{
	char v[64], d1[96], d2[32];

	snprintf(v, sizeof(v), "%zu", g->ndeploys);
	card(b, v, "deploys in the period");
	snprintf(v, sizeof(v), "%.2f / day", g->per_day);
	snprintf(d1, sizeof(d1), "%.1f per week, successful", g->per_week);
	card(b, v, d1);
	if (g->cfr < 0)
		snprintf(v, sizeof(v), "unknown");
	else
		snprintf(v, sizeof(v), "%.0f%%", g->cfr * 100);
	snprintf(d1, sizeof(d1), "change failures (%zu of %zu)", g->failures,
		 g->finished);
	card(b, v, d1);
	report_fmt_duration(g->lead_median, v, sizeof(v));
	report_fmt_duration(g->lead_p90, d2, sizeof(d2));
	snprintf(d1, sizeof(d1), "lead time, median (p90 %s)", d2);
	card(b, v, d1);
	report_fmt_duration(g->restore_median, v, sizeof(v));
	snprintf(d1, sizeof(d1), "time to restore, median%s",
		 g->restore_open ? " (still failing)" : "");
	card(b, v, d1);
	card(b, g->slowest ? g->slowest : "-", "slowest stage (median)");
}

/* The mark's hover text: tag, outcome, who, duration, failing stage. */
static void mark_title(struct gantry_buf *b, const struct report_deploy *d)
{
	const struct deploy_record *r = d->r;
	char dur[32], when[32];

	report_fmt_duration(d->duration, dur, sizeof(dur));
	report_fmt_time(r->started, REPORT_SECOND, when, sizeof(when));
	gantry_buf_adds(b, "<title>");
	esc(b, r->tag ? r->tag : "?");
	gantry_buf_adds(b, " - ");
	esc(b, d->outcome);
	if (d->rollback)
		gantry_buf_adds(b, " (rollback deploy)");
	if (d->reverted)
		gantry_buf_adds(b, ", undone by a rollback deploy");
	gantry_buf_adds(b, "\nby ");
	esc(b, r->actor ? r->actor : "?");
	gantry_buf_addf(b, " at %s, took %s", when, dur);
	if (r->failed_stage) {
		gantry_buf_adds(b, "\nfailing stage: ");
		esc(b, r->failed_stage);
		if (r->reason) {
			gantry_buf_adds(b, ": ");
			esc(b, r->reason);
		}
	}
	gantry_buf_adds(b, "</title>");
}

static void timeline(struct gantry_buf *b, const struct report_group *g)
{
	double t0 = g->deploys[0].r->started, t1 = t0, span, pad;
	double lastx[MAX_LANES];
	int lane_of_max = 1, h, k;
	size_t i;
	char label[32];

	for (i = 0; i < g->ndeploys; i++) {
		const struct deploy_record *r = g->deploys[i].r;

		if (r->started > t1)
			t1 = r->started;
	}
	span = t1 - t0;
	if (span < 60) {
		t0 -= (60 - span) / 2;
		span = 60;
	}
	pad = span * 0.04;
	t0 -= pad;
	span += 2 * pad;
	for (k = 0; k < MAX_LANES; k++)
		lastx[k] = -1e9;
	/* Lanes first, to know the height. */
	{
		int *lane = gantry_xcalloc(g->ndeploys + 1, sizeof(*lane));

		for (i = 0; i < g->ndeploys; i++) {
			double x = 20 + (g->deploys[i].r->started - t0) / span *
				   (W - 40);
			int best = 0;

			for (k = 0; k < MAX_LANES; k++) {
				if (x - lastx[k] >= 2 * MARK_R + 2)
					break;
				if (lastx[k] < lastx[best])
					best = k;
			}
			lane[i] = k < MAX_LANES ? k : best;
			lastx[lane[i]] = x;
			if (lane[i] + 1 > lane_of_max)
				lane_of_max = lane[i] + 1;
		}
		h = 20 + lane_of_max * (2 * MARK_R + 4) + 30;
		gantry_buf_addf(b, "<svg class=\"timeline\" viewBox=\"0 0 %d "
				  "%d\" role=\"img\" aria-label=\"deploys of ",
				  W, h);
		esc(b, g->environment);
		gantry_buf_adds(b, " over time\">\n");
		gantry_buf_addf(b, "<line class=\"axis\" x1=\"20\" y1=\"%d\" "
				  "x2=\"%d\" y2=\"%d\"/>\n", h - 24, W - 20,
				  h - 24);
		for (k = 0; k <= 4; k++) {
			double t = t0 + pad + (span - 2 * pad) * k / 4;
			double x = 20 + (t - t0) / span * (W - 40);

			report_fmt_time(t, span > 2 * 86400 ? REPORT_DATE :
					span > 3600 ? REPORT_SHORT :
					REPORT_CLOCK, label, sizeof(label));
			gantry_buf_addf(b, "<line class=\"axis\" x1=\"%.1f\" "
					  "y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>"
					  "<text x=\"%.1f\" y=\"%d\" "
					  "text-anchor=\"middle\">%s</text>\n",
					  x, h - 28, x, h - 20, x, h - 6,
					  label);
		}
		for (i = 0; i < g->ndeploys; i++) {
			const struct report_deploy *d = &g->deploys[i];
			double x = 20 + (d->r->started - t0) / span * (W - 40);

			gantry_buf_addf(b, "<circle class=\"deploy-mark "
					  "o-%s%s\" "
					  "cx=\"%.1f\" cy=\"%d\" r=\"%d\">",
					  outcome_class(d->outcome),
					  d->reverted ? " reverted" : "", x,
					  20 + lane[i] * (2 * MARK_R + 4),
					  MARK_R);
			mark_title(b, d);
			gantry_buf_adds(b, "</circle>\n");
		}
		free(lane);
	}
	gantry_buf_adds(b, "</svg>\n<div class=\"legend\">");
	{
		static const char *const words[] = { "succeeded", "failed",
			"rolled_back", "rollback_failed", "timed_out",
			"failed_deployed", "interrupted", "running" };

		for (k = 0; k < (int)GANTRY_ARRAY_SIZE(words); k++)
			gantry_buf_addf(b, "<span><i class=\"o-%s\"></i>%s"
					  "</span>", words[k], words[k]);
	}
	gantry_buf_adds(b, "<span>dashed ring: undone by a rollback deploy"
			  "</span></div>\n");
}

static int stage_index(const struct report_group *g, const char *name)
{
	size_t k;

	for (k = 0; name && k < g->nstages; k++)
		if (!strcmp(g->stages[k].name, name))
			return (int)k;
	return -1;
}

static int stage_timed(const struct stage_record *s)
{
	return s->name && s->started > 0 && s->finished >= s->started &&
	       s->status != ST_PENDING && s->status != ST_SKIPPED;
}

static void bars(struct gantry_buf *b, const struct report_group *g)
{
	size_t first = g->ndeploys > MAX_BARS ? g->ndeploys - MAX_BARS : 0;
	size_t i, j, rows = g->ndeploys - first;
	double most = 0;
	int y;
	char dur[32];

	for (i = first; i < g->ndeploys; i++) {
		const struct deploy_record *r = g->deploys[i].r;
		double sum = 0;

		for (j = 0; j < r->nstages; j++)
			if (stage_timed(&r->stages[j]))
				sum += r->stages[j].finished -
				       r->stages[j].started;
		if (sum > most)
			most = sum;
	}
	if (first)
		gantry_buf_addf(b, "<p class=\"empty\">the newest %d of %zu "
				  "deploys</p>\n", MAX_BARS, g->ndeploys);
	gantry_buf_addf(b, "<svg class=\"bars\" viewBox=\"0 0 %d %zu\" "
			  "role=\"img\" aria-label=\"stage durations per "
			  "deploy\">\n", W, rows * (BAR_H + BAR_GAP) + 4);
	for (y = 2, i = first; i < g->ndeploys; i++, y += BAR_H + BAR_GAP) {
		const struct report_deploy *d = &g->deploys[i];
		const struct deploy_record *r = d->r;
		double x = LABEL_W;

		gantry_buf_addf(b, "<text x=\"%d\" y=\"%d\" "
				  "text-anchor=\"end\">",
				  LABEL_W - 8, y + BAR_H - 4);
		esc(b, r->tag ? r->tag : "?");
		gantry_buf_adds(b, "</text>");
		for (j = 0; j < r->nstages; j++) {
			const struct stage_record *s = &r->stages[j];
			double secs, w;
			int k;

			if (!stage_timed(s))
				continue;
			secs = s->finished - s->started;
			w = most > 0 ?
			    secs / most * (W - LABEL_W - TOTAL_W) : 0;
			if (w < 1)
				w = 1;
			k = stage_index(g, s->name);
			report_fmt_duration(secs, dur, sizeof(dur));
			gantry_buf_addf(b, "<rect class=\"s%d\" x=\"%.1f\" "
					  "y=\"%d\" width=\"%.1f\" "
					  "height=\"%d\">"
					  "<title>", k < 0 ? STAGE_COLOURS - 1 :
					  k % STAGE_COLOURS, x, y, w, BAR_H);
			esc(b, r->tag ? r->tag : "?");
			gantry_buf_adds(b, " - ");
			esc(b, s->name);
			gantry_buf_addf(b, ": %s, %s</title></rect>", dur,
					  stage_status_name(s->status));
			x += w;
		}
		report_fmt_duration(d->duration, dur, sizeof(dur));
		gantry_buf_addf(b, "<text x=\"%.1f\" y=\"%d\">%s</text>\n",
				  x + 6, y + BAR_H - 4, dur);
	}
	gantry_buf_adds(b, "</svg>\n<div class=\"legend stages\">");
	for (i = 0; i < g->nstages; i++) {
		gantry_buf_addf(b, "<span><i class=\"s%zu\"></i>",
				  i % STAGE_COLOURS);
		esc(b, g->stages[i].name);
		gantry_buf_adds(b, "</span>");
	}
	gantry_buf_adds(b, "</div>\n");
}

static void tables(struct gantry_buf *b, const struct report_group *g)
{
	char d1[32], d2[32];
	size_t i;

	if (g->nstages) {
		gantry_buf_adds(b, "<h3>Stages</h3>\n<table><tr>"
				  "<th>stage</th>"
				  "<th>runs</th><th>median</th><th>p90</th>"
				  "</tr>\n");
		for (i = 0; i < g->nstages; i++) {
			const struct report_stat *st = &g->stages[i];

			report_fmt_duration(st->median, d1, sizeof(d1));
			report_fmt_duration(st->p90, d2, sizeof(d2));
			gantry_buf_adds(b, "<tr><td>");
			esc(b, st->name);
			gantry_buf_addf(b, "%s</td><td class=\"n\">%zu</td>"
					  "<td>%s</td><td>%s</td></tr>\n",
					  st->name == g->slowest ?
					  " (slowest)" : "", st->count, d1, d2);
		}
		gantry_buf_adds(b, "</table>\n");
	}
	gantry_buf_adds(b, "<h3>Failure reasons</h3>\n");
	if (!g->nreasons) {
		gantry_buf_adds(b, "<p class=\"empty\">no change failures"
				  "</p>\n");
		return;
	}
	gantry_buf_adds(b, "<table><tr><th>count</th><th>stage</th>"
			  "<th>message class</th></tr>\n");
	for (i = 0; i < g->nreasons; i++) {
		const struct report_reason *r = &g->reasons[i];

		gantry_buf_addf(b, "<tr><td class=\"n\">%zu</td><td>",
				  r->count);
		esc(b, r->stage);
		gantry_buf_adds(b, "</td><td><code title=\"");
		esc(b, r->example);
		gantry_buf_adds(b, "\">");
		esc(b, r->cls);
		gantry_buf_adds(b, "</code></td></tr>\n");
	}
	gantry_buf_adds(b, "</table>\n");
}

char *report_html(const struct report *rep)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	char from[32], to[32], gen[32];
	size_t i;

	report_fmt_time(rep->since, REPORT_MINUTE, from, sizeof(from));
	report_fmt_time(rep->until, REPORT_MINUTE, to, sizeof(to));
	report_fmt_time(rep->generated, REPORT_SECOND, gen, sizeof(gen));
	gantry_buf_adds(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
			  "<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
			  "content=\"width=device-width, initial-scale=1\">\n"
			  "<meta name=\"color-scheme\" "
			  "content=\"light dark\">\n"
			  "<title>gantry deploy report</title>\n<style>\n");
	gantry_buf_adds(&b, css);
	gantry_buf_addf(&b, "</style></head>\n<body>\n<h1>Deploy report</h1>"
			  "\n<p class=\"sub\">%s to %s (UTC) &middot; "
			  "generated "
			  "%s by gantry %s</p>\n", from, to, gen,
			  PACKAGE_VERSION);
	for (i = 0; i < rep->ngroups; i++) {
		const struct report_group *g = &rep->groups[i];

		gantry_buf_adds(&b, "<section class=\"group\">\n<h2>");
		esc(&b, g->service);
		gantry_buf_adds(&b, " / ");
		esc(&b, g->environment);
		gantry_buf_adds(&b, "</h2>\n<div class=\"cards\">\n");
		cards(&b, g);
		gantry_buf_adds(&b, "</div>\n<h3>Timeline</h3>\n");
		timeline(&b, g);
		gantry_buf_adds(&b, "<h3>Stage durations per deploy</h3>\n");
		bars(&b, g);
		tables(&b, g);
		gantry_buf_adds(&b, "</section>\n");
	}
	if (!rep->ngroups)
		gantry_buf_adds(&b, "<p class=\"empty\">no deploys in this "
				  "period</p>\n");
	if (rep->skipped)
		gantry_buf_addf(&b, "<p class=\"empty\">%zu records without "
				  "a start time were left out</p>\n",
				  rep->skipped);
	gantry_buf_adds(&b, "</body></html>\n");
	return gantry_buf_detach(&b);
}
