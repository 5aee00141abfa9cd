/*
 * runner.c - callbacks in child processes: containment and time limits.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "optrules.h"
#include "runner.h"

#define TERM_TO_KILL_SECONDS 5
/* The most a stage's result (outputs, plan lines, error) may weigh; what
   comes beyond is read and dropped, so the child never blocks on a full
   pipe, and the stage fails with a line that says why. */
#define REPORT_MAX (16u << 20)

static void (*tick_fn)(void *);
static void *tick_arg;

void runner_set_tick(void (*fn)(void *), void *arg)
{
	tick_fn = fn;
	tick_arg = arg;
}

static volatile sig_atomic_t signals_seen;

static void on_signal(int sig)
{
	(void)sig;
	gantry_i_interrupted = 1;
	signals_seen++;
}

void runner_install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* In the child: report the outcome as one JSON document. */
static void child_report(int fd, struct gantry_ctx *ctx, int rc)
{
	struct gantry_json *o = gantry_json_new_object(), *outs, *secs;
	size_t i;
	const char *text;

	gantry_json_set_int(o, "rc", rc);
	if (rc != GANTRY_OK)
		gantry_json_set_string(o, "error", ctx->err_msg ? ctx->err_msg :
				       "failed without a message");
	outs = gantry_json_set_array(o, "outputs");
	for (i = 0; i < ctx->outputs.n; i++) {
		struct gantry_json *kv = gantry_json_push_object(outs);

		gantry_json_set_string(kv, "k", ctx->outputs.v[i].key);
		gantry_json_set_string(kv, "v", ctx->outputs.v[i].value);
		gantry_json_set_bool(kv, "s", ctx->outputs.v[i].secret);
	}
	/* Secrets the stage registered: the core must redact them too. */
	secs = gantry_json_set_array(o, "secrets");
	for (i = 0; i < gantry_i_secret_count(); i++)
		gantry_json_push_string(secs, gantry_i_secret_at(i));
	if (ctx->plan.len)
		gantry_json_set_string(o, "plan", ctx->plan.buf);
	text = gantry_json_text(o, 0);
	write_all(fd, text, strlen(text));
	gantry_json_free(o);
}

/*
 * Phase markers: one byte written to the pipe before init ('I') and
 * before the callback ('C'), so that a crash is reported in the callback
 * where it happened.  The report itself starts with '{'.
 */
static void mark(int fd, char phase)
{
	write_all(fd, &phase, 1);
}

static int call(const struct run_request *req, struct gantry_ctx *ctx,
		int fd)
{
	const struct gantry_stage *d = req->plugin->desc;
	void *state = NULL;
	int rc = GANTRY_OK;
	struct errs e = { 0 };

	mark(fd, 'I');
	/* Values that held ${...} references when the configuration was
	   checked meet the option rules only now, resolved. */
	if (optrules_check_options(d, req->opts, req->entry, 0, &e) < 0) {
		rc = gantry_fail(ctx, GANTRY_ECONFIG, "%s", e.msg[0]);
		errs_clear(&e);
		return rc;
	}
	if (d->init) {
		rc = d->init(req->opts, ctx, &state);
		if (rc != GANTRY_OK) {
			if (!ctx->err_msg)
				gantry_fail(ctx, rc, "init failed");
			return ctx->err_code ? ctx->err_code : rc;
		}
	}
	mark(fd, 'C');
	switch (req->which) {
	case CB_PLAN:
		if (d->plan)
			rc = d->plan(state, ctx);
		else
			gantry_plan_line(ctx, "(stage '%s' does not describe "
					 "its actions)", d->name);
		break;
	case CB_RUN:
		rc = d->run ? d->run(state, ctx) : GANTRY_OK;
		break;
	case CB_ROLLBACK:
		rc = d->rollback ? d->rollback(state, ctx) : GANTRY_OK;
		break;
	case CB_EVENT:
		rc = d->event ? d->event(state, ctx, req->event) : GANTRY_OK;
		break;
	}
	if (d->fini)
		d->fini(state);
	if (rc > 0)
		rc = GANTRY_EFAIL;
	if (rc != GANTRY_OK && !ctx->err_msg)
		gantry_fail(ctx, rc, "stage returned %d without a message", rc);
	return rc;
}

static void child_main(const struct run_request *req, int fd, pid_t parent)
{
	struct gantry_ctx *ctx;
	size_t i;
	int rc;

	setpgid(0, 0);
	gantry_i_interrupted = 0;
	runner_install_signals();
	/* If gantry itself dies (kill -9), the stage is asked to stop
	   rather than run on unobserved holding the deploy lock. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(1);
	ctx = gantry_i_ctx_new(req->entry);
	ctx->timeout = req->timeout;
	ctx->kill_grace = req->kill_grace;
	ctx->dry_run = req->dry_run || req->which == CB_PLAN;
	for (i = 0; req->context && i < req->context->n; i++)
		gantry_i_kv_set(&ctx->values, req->context->v[i].key,
				req->context->v[i].value,
				req->context->v[i].secret);
	rc = call(req, ctx, fd);
	gantry_i_status_end();
	child_report(fd, ctx, rc);
	close(fd);
	gantry_i_ctx_free(ctx);
	_exit(0);
}

static void parse_report(const char *text, size_t len, struct run_result *res)
{
	struct gantry_json *o = gantry_json_parse(text, len, NULL, 0), *v;
	const char *str;
	size_t i;

	if (gantry_json_type(o) != GANTRY_JSON_OBJECT) {
		res->rc = GANTRY_EFAIL;
		res->error = gantry_xstrdup("stage ended without reporting "
					      "a result");
		gantry_json_free(o);
		return;
	}
	v = gantry_json_get(o, "secrets");
	for (i = 0; i < gantry_json_length(v); i++)
		gantry_secret_add(gantry_json_string(gantry_json_at(v, i),
						     NULL, NULL));
	res->rc = (int)gantry_json_int(o, "rc", GANTRY_EFAIL);
	if ((str = gantry_json_string(o, "error", NULL)))
		res->error = gantry_i_redact(str);
	if ((str = gantry_json_string(o, "plan", NULL)))
		res->plan = gantry_xstrdup(str);
	v = gantry_json_get(o, "outputs");
	for (i = 0; i < gantry_json_length(v); i++) {
		struct gantry_json *kv = gantry_json_at(v, i);
		const char *key = gantry_json_string(kv, "k", NULL);
		const char *val = gantry_json_string(kv, "v", NULL);

		if (key && val && gantry_json_get(kv, "s"))
			gantry_i_kv_set(&res->outputs, key, val,
					gantry_json_bool(kv, "s", 0));
	}
	gantry_json_free(o);
}

static const char *callback_name(enum callback c)
{
	static const char *const names[] = { "plan", "run", "rollback",
					     "event" };
	return names[c];
}

void runner_call(const struct run_request *req, struct run_result *res)
{
	struct gantry_buf report = GANTRY_BUF_INIT;
	double start = gantry_now(), term_at = 0, kill_at = 0, limit;
	double last_tick = start;
	size_t skip = 0;
	char phase = 0;
	sig_atomic_t signals_at_term = 0;
	int fds[2], status = 0, open_pipe = 1, too_big = 0;
	pid_t pid, parent;

	memset(res, 0, sizeof(*res));
	limit = req->timeout ? (double)req->timeout + req->kill_grace : 0;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		res->rc = GANTRY_EFAIL;
		res->error = gantry_xasprintf("cannot create a pipe: %s",
						strerror(errno));
		return;
	}
	fflush(stdout);
	fflush(stderr);
	parent = getpid();
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		res->rc = GANTRY_EFAIL;
		res->error = gantry_xasprintf("cannot fork: %s",
						strerror(errno));
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		child_main(req, fds[1], parent);
	}
	/* Both sides set the group, so killpg works whoever runs first. */
	setpgid(pid, pid);
	close(fds[1]);

	while (open_pipe) {
		struct pollfd pfd = { fds[0], POLLIN, 0 };
		double now = gantry_now();
		char chunk[4096];
		ssize_t n;

		if (gantry_i_interrupted && !term_at) {
			/* The stage gets kill_grace seconds to stop and undo
			   what it must (ecs-rolling restores the previous
			   release); a second signal kills it at once. */
			res->interrupted = 1;
			term_at = now;
			signals_at_term = signals_seen;
			kill_at = now + (req->kill_grace ? req->kill_grace :
					 TERM_TO_KILL_SECONDS);
			killpg(pid, SIGTERM);
		}
		if (term_at && kill_at && signals_seen != signals_at_term) {
			killpg(pid, SIGKILL);
			kill_at = 0;
		}
		if (limit && !term_at && now - start > limit) {
			/* The stage had its timeout and the grace period to
			   clean up: no more warnings. */
			res->killed = 1;
			term_at = now;
			killpg(pid, SIGKILL);
		}
		if (kill_at && now > kill_at) {
			killpg(pid, SIGKILL);
			kill_at = 0;
		}
		if (tick_fn && now - last_tick >= 1.0) {
			last_tick = now;
			tick_fn(tick_arg);
		}
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			open_pipe = 0;
		else if (report.len + (size_t)n <= REPORT_MAX)
			gantry_buf_add(&report, chunk, (size_t)n);
		else
			too_big = 1;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
		if (gantry_i_interrupted)
			killpg(pid, SIGKILL);
	}
	/* Grandchildren the stage left behind go with it. */
	killpg(pid, SIGKILL);
	res->seconds = gantry_now() - start;

	/* Strip the phase markers; the last one says where the child was. */
	while (skip < report.len && (report.buf[skip] == 'I' ||
				     report.buf[skip] == 'C'))
		phase = report.buf[skip++];
	if (too_big && !res->killed && !res->interrupted) {
		res->rc = GANTRY_EFAIL;
		res->error = gantry_xasprintf(
			"its result (outputs, plan or error message) is larger "
			"than %u MiB: the stage captured or published more than "
			"%u MiB of output; redirect the tool's output to a file "
			"or quiet it (its --quiet flag or similar), and publish "
			"only what later stages need", REPORT_MAX >> 20,
			REPORT_MAX >> 20);
	} else if (report.len > skip) {
		parse_report(report.buf + skip, report.len - skip, res);
	} else if (res->killed) {
		res->rc = GANTRY_ETIMEOUT;
		res->error = gantry_xasprintf(
			"still running %u s after its %u s timeout; killed",
			req->kill_grace, req->timeout);
	} else if (res->interrupted) {
		res->rc = GANTRY_EINTERRUPTED;
		res->error = gantry_xstrdup("interrupted");
	} else if (WIFSIGNALED(status)) {
		res->signal = WTERMSIG(status);
		res->rc = GANTRY_EFAIL;
		res->error = gantry_xasprintf(
			"crashed in %s with signal %d (%s); this is "
			"a bug in plugin '%s'",
			phase == 'C' ? callback_name(req->which) : "init", res->signal,
			strsignal(res->signal), req->plugin->path);
	} else {
		res->rc = GANTRY_EFAIL;
		res->error = gantry_xasprintf(
			"exited (status %d) in %s without reporting "
			"a result; this is a bug in plugin '%s'",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			phase == 'C' ? callback_name(req->which) : "init",
			req->plugin->path);
	}
	if (res->interrupted && res->rc == GANTRY_OK)
		res->interrupted = 0;
	gantry_buf_release(&report);
}

void run_result_release(struct run_result *res)
{
	free(res->error);
	free(res->plan);
	gantry_i_kv_clear(&res->outputs);
	memset(res, 0, sizeof(*res));
}
