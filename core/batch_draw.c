/*
 * batch_draw.c - what `gantry batch` shows: on a terminal every deploy's
 * status line redrawn in place, elsewhere one plain line per change (both
 * on stderr), and the final table on stdout.  batch.c decides when.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "batch_i.h"

#define C_GREEN "\033[32m"
#define C_RED   "\033[31m"
#define C_YEL   "\033[33m"
#define C_DIM   "\033[2m"
#define C_OFF   "\033[0m"

static void put_err(const struct gantry_buf *line)
{
	if (write(STDERR_FILENO, line->buf, line->len) < 0) {
		/* stderr is gone; nothing to tell */
	}
}

const char *batch_job_word(const struct job *j)
{
	switch (j->state) {
	case J_QUEUED: return "queued";
	case J_RUNNING: return "running";
	case J_SKIPPED: return "skipped";
	case J_DONE: break;
	}
	return j->result;
}

static const char *job_color(const struct job *j)
{
	if (!gantry_i_log_color())
		return "";
	if (j->state == J_QUEUED)
		return C_DIM;
	if (j->state == J_RUNNING)
		return "";
	if (j->state == J_SKIPPED)
		return C_YEL;
	return j->code == 0 ? C_GREEN : C_RED;
}

static int name_width(const struct batch *b)
{
	size_t i, w = 4;

	for (i = 0; i < b->n; i++)
		if (strlen(b->jobs[i].name) > w)
			w = strlen(b->jobs[i].name);
	return (int)w;
}

/* One deploy's status; detail says what changes between redraws. */
static void job_line(const struct batch *b, const struct job *j,
		     struct gantry_buf *out)
{
	double now = gantry_now();
	const char *c = job_color(j);
	size_t from = out->len;

	/* Names, stages and reasons are shown, never obeyed: only the
	   colour is an escape sequence. */
	gantry_buf_addf(out, "%-*s  ", name_width(b), j->name);
	gantry_i_term_clean(out, from, 0);
	gantry_buf_addf(out, "%s%-9s%s", c, batch_job_word(j), *c ? C_OFF : "");
	from = out->len;
	if (j->state == J_RUNNING)
		gantry_buf_addf(out, " %3.0fs  %s", now - j->t0,
				  j->stage ? j->stage : "starting");
	else if (j->state == J_DONE)
		gantry_buf_addf(out, " %3.0fs  exit %d%s%s", j->t1 - j->t0,
				  j->code, j->reason ? ": " : "",
				  j->reason ? j->reason : "");
	else if (j->state == J_SKIPPED && j->reason)
		gantry_buf_addf(out, "       %s", j->reason);
	gantry_i_term_clean(out, from, 0);
}

static unsigned columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10)
		return ws.ws_col;
	return 80;
}

/* On a terminal: every deploy's line, redrawn in place.  Lines are cut
   to the width so none wraps and the cursor arithmetic stays right. */
void batch_draw(struct batch *b, int force)
{
	struct gantry_buf out = GANTRY_BUF_INIT;
	long sec = (long)gantry_now();
	unsigned width = columns() - 1;
	size_t i;

	if (!b->tty || b->quiet || (!force && sec == b->drawn_sec))
		return;
	b->drawn_sec = sec;
	if (b->drawn)
		gantry_buf_addf(&out, "\033[%zuA", b->drawn);
	for (i = 0; i < b->n; i++) {
		struct gantry_buf l = GANTRY_BUF_INIT;
		size_t vis = 0, k;

		job_line(b, &b->jobs[i], &l);
		gantry_buf_adds(&out, "\r\033[K");
		/* Cut by visible characters; escape sequences are free. */
		for (k = 0; k < l.len; k++) {
			if (l.buf[k] == '\033') {
				size_t m = k;

				while (m < l.len && l.buf[m] != 'm')
					m++;
				gantry_buf_add(&out, l.buf + k, m - k + 1);
				k = m;
				continue;
			}
			if (vis++ < width)
				gantry_buf_addch(&out, l.buf[k]);
		}
		gantry_buf_addch(&out, '\n');
		gantry_buf_release(&l);
	}
	b->drawn = b->n;
	put_err(&out);
	gantry_buf_release(&out);
}

/* Elsewhere (CI logs, files): one plain line per change. */
void batch_report(struct batch *b, const struct job *j, const char *what)
{
	struct gantry_buf l = GANTRY_BUF_INIT;

	if (b->quiet)
		return;
	if (b->tty) {
		batch_draw(b, 1);
		return;
	}
	if (what)
		gantry_buf_addf(&l, "%-*s  %s", name_width(b), j->name, what);
	else
		job_line(b, j, &l);
	gantry_buf_addch(&l, '\n');
	put_err(&l);
	gantry_buf_release(&l);
}

void batch_print_table(const struct batch *b, int code)
{
	int wn = name_width(b), we = 3, wt = 3, wr = 6, wi = 9;
	size_t i, ok = 0;

	for (i = 0; i < b->n; i++) {
		const struct job *j = &b->jobs[i];

		if ((int)strlen(j->env) > we)
			we = (int)strlen(j->env);
		if ((int)strlen(j->tag) > wt)
			wt = (int)strlen(j->tag);
		if ((int)strlen(batch_job_word(j)) > wr)
			wr = (int)strlen(batch_job_word(j));
		if (j->deploy_id && (int)strlen(j->deploy_id) > wi)
			wi = (int)strlen(j->deploy_id);
	}
	printf("%-*s  %-*s  %-*s  %-*s  %4s  %8s  %-*s  %s\n", wn, "NAME", we,
	       "ENV", wt, "TAG", wr, "RESULT", "EXIT", "TIME", wi,
	       "DEPLOY ID", "LOG");
	for (i = 0; i < b->n; i++) {
		const struct job *j = &b->jobs[i];
		char ex[16] = "-", dur[32] = "-";

		if (j->state == J_DONE) {
			snprintf(ex, sizeof(ex), "%d", j->code);
			snprintf(dur, sizeof(dur), "%.1fs", j->t1 - j->t0);
			ok += j->code == EXIT_OK;
		}
		gantry_i_term_printf(stdout, "%-*s  %-*s  %-*s  %-*s  %4s  "
				     "%8s  %-*s  %s\n", wn, j->name, we,
				     j->env, wt, j->tag, wr, batch_job_word(j), ex,
				     dur, wi, j->deploy_id ? j->deploy_id :
				     "-", j->log ? j->log : "-");
	}
	for (i = 0; i < b->n; i++) {
		const struct job *j = &b->jobs[i];

		if (j->reason && strcmp(j->reason, batch_job_word(j)) &&
		    !(j->state == J_DONE && j->code == 0))
			gantry_i_term_printf(stdout, "%s: %s: %s\n", j->name,
					     batch_job_word(j), j->reason);
	}
	printf("batch %s: %zu of %zu deploy%s %s; exit %d\n", b->id, ok,
	       b->n, b->n == 1 ? "" : "s",
	       b->o->dry_run ? "planned" : "succeeded", code);
}
