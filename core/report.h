/*
 * report.h - deploy metrics from the journal (`gantry report`).
 *
 * report_build() turns a list of journal records into one group per
 * (service, environment): deploy frequency, lead time, change-failure
 * rate, time to restore, stage durations and failure reasons, and the
 * deploys of the window for the timeline.  The renderers turn a report
 * into text, JSON or one self-contained HTML page.  Every metric is
 * defined in docs/report.md; the code follows those words.
 *
 * Invariants: the report borrows the records (they must outlive it);
 * every count and quantile is computed from deploys that started inside
 * [since, until); a value that cannot be known is -1 (printed as unknown,
 * JSON null), never a guess.  Dry runs are not deploys and are ignored.
 */
#ifndef GANTRY_REPORT_H
#define GANTRY_REPORT_H

#include "journal.h"

struct session;

/* A rollback deploy this soon after a deploy's finish marks it failed. */
#define REPORT_ROLLBACK_WINDOW (24 * 3600.0)
/* How many failure reasons a group keeps (most frequent first). */
#define REPORT_MAX_REASONS 10

/* One deploy of the window, as the report sees it. */
struct report_deploy {
	const struct deploy_record *r;	/* borrowed */
	const char *outcome;	/* r->result, "running" when absent */
	int finished;		/* counts in the change-failure rate */
	int change_failure;	/* failed, rolled back, or reverted */
	int reverted;		/* succeeded, then undone by a rollback */
	int rollback;		/* is itself a rollback deploy */
	double duration;	/* seconds; -1 running or clock skew */
};

struct report_stat {
	char *name;		/* pipeline entry name */
	size_t count;
	double median, p90, total;	/* seconds */
};

struct report_reason {
	char *stage;		/* entry name, "-" when none is known */
	char *cls;		/* the message with values normalised */
	char *example;		/* the newest message of that class */
	size_t count;
};

struct report_day {
	char date[16];		/* "YYYY-MM-DD", UTC */
	size_t deploys, succeeded;
};

struct report_group {
	char *service, *environment;
	struct report_deploy *deploys;	/* in the window, oldest first */
	size_t ndeploys;
	size_t finished, succeeded, failures, running, interrupted;
	size_t rollbacks, skewed;
	double per_day, per_week;	/* successful deploys */
	double cfr;			/* failures / finished, or -1 */
	double lead_median, lead_p90;	/* -1 when lead_n == 0 */
	size_t lead_n, lead_unknown;
	double restore_median;		/* -1 when restore_n == 0 */
	size_t restore_n, restore_open;
	struct report_stat *stages;
	size_t nstages;
	const char *slowest;		/* a stages[].name, or NULL */
	struct report_reason *reasons;
	size_t nreasons;
	struct report_day *days;	/* days with deploys, ascending */
	size_t ndays;
};

struct report {
	double since, until, generated;	/* epoch seconds, UTC */
	size_t skipped;		/* records without a start time */
	struct report_group *groups;	/* by service, then environment */
	size_t ngroups;
};

/* The time a commit was made (epoch seconds), or -1 when unknown. */
typedef double (*report_commit_time_fn)(void *arg, const char *commit);

/*
 * Builds rep from n records (any order; rep borrows them).  commit_time
 * may be NULL (every lead time unknown).  Never fails: records missing
 * fields are placed where they can be or counted in rep->skipped.
 */
void report_build(struct report *rep, const struct deploy_record *recs,
		  size_t n, double since, double until,
		  report_commit_time_fn commit_time, void *arg);
void report_release(struct report *rep);

/*
 * Parses a --since/--until value: "YYYY-MM-DD" (UTC midnight; with end
 * set, the midnight after it, so the day is included) or "Nd", "Nh",
 * "Nw" before now.  0, or -1 when text is neither.
 */
int report_parse_time(const char *text, double now, int end, double *out);

/* The class of a failure message: digits and quoted values replaced by
   '#' and '*', runs of blanks folded, at most 120 bytes.  Malloc'd. */
char *report_failure_class(const char *message);

/* The q-quantile (0 < q <= 1) of v[0..n) by nearest rank; 0.5 is the
   median (mean of the two middle values when n is even).  Sorts v. */
double report_quantile(double *v, size_t n, double q);

/* The stage and message a change failure failed with (borrowed). */
void report_failure_of(const struct report_deploy *d, const char **stage,
		       const char **msg);

/* Whether a stage ran to an end with a sane clock, so its time counts. */
int report_stage_measured(const struct stage_record *s);

/* Renderers; each returns a malloc'd document. */
char *report_text(const struct report *rep);
char *report_json(const struct report *rep);
char *report_html(const struct report *rep);

/* How report_fmt_time writes a time (always UTC). */
enum report_time {
	REPORT_DATE,		/* 2024-03-01 */
	REPORT_MINUTE,		/* 2024-03-01 14:05Z */
	REPORT_SECOND,		/* 2024-03-01 14:05:09Z */
	REPORT_ISO,		/* 2024-03-01T14:05:09Z */
	REPORT_SHORT,		/* 03-01 14:05 */
	REPORT_CLOCK		/* 14:05:09 */
};
/* Writes epoch in style; "-" when epoch is not positive. */
void report_fmt_time(double epoch, enum report_time style, char *buf,
		     size_t len);

/* "2m05s", "1h02m", "3d04h"; "unknown" for negative seconds. */
void report_fmt_duration(double seconds, char *buf, size_t len);

/*
 * `gantry report [ENV...]`: reads the journal through the session's
 * state backend, renders the format asked for to stdout or -o FILE.
 * Returns an exit code.
 */
int report_command(struct session *s, int nenvs, char **envs);

#endif
