/*
 * cmd.c - running a program: fork + execvp on an argv array, its own
 * process group, stdin fed and stdout/stderr read through one poll()
 * loop, lines handed out as they arrive, timeout and interrupt handling.
 *
 * What must stay true: the child is always reaped and every descriptor
 * we opened is closed, whatever path run() leaves by; nothing but the
 * child changes its environment or directory.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

#define CMD_DEFAULT_KEEP 10
#define CMD_MAX_LINE (64 * 1024)
#define CMD_MAX_CAPTURE (16 * 1024 * 1024)
#define CMD_POLL_MS 200
#define CMD_KILL_GRACE 5.0

/* What the child reports on the status pipe when it cannot exec. */
enum child_step { STEP_SETUP = 1, STEP_CHDIR, STEP_EXEC };

struct child_report {
	int step;
	int err;
};

struct cmd_stream {
	int fd;			/* -1 once at end of file */
	enum gantry_cmd_stream which;
	struct gantry_buf partial;	/* bytes after the last newline */
};

struct gantry_cmd {
	char **argv;		/* NULL-terminated */
	size_t argc, aargv;
	char **env;		/* name, value, name, value, ... */
	size_t nenv, aenv;
	char *cwd;
	unsigned timeout;
	char *in;
	size_t inlen;
	int has_in;
	gantry_cmd_line_fn fn;
	void *fn_arg;
	int capture;
	int muted;		/* the line callback asked to stop */

	/* Results of run. */
	char **ring;		/* last `keep` lines, oldest at ring_pos */
	size_t keep, nring, ring_pos;
	struct gantry_buf out;	/* captured stdout */
	char *tail;
	char *error;
	int status;
	int sig;
};

struct gantry_cmd *gantry_cmd_new(const char *program)
{
	struct gantry_cmd *cmd;

	if (!program)
		return NULL;
	cmd = calloc(1, sizeof(*cmd));
	if (!cmd)
		return NULL;
	cmd->keep = CMD_DEFAULT_KEEP;
	gantry_buf_init(&cmd->out);
	gantry_cmd_arg(cmd, program);
	return cmd;
}

void gantry_cmd_arg(struct gantry_cmd *cmd, const char *arg)
{
	if (!cmd || !arg)
		return;
	GANTRY_GROW(cmd->argv, cmd->argc + 2, cmd->aargv);
	cmd->argv[cmd->argc++] = gantry_xstrdup(arg);
	cmd->argv[cmd->argc] = NULL;
}

void gantry_cmd_env(struct gantry_cmd *cmd, const char *name,
		    const char *value)
{
	if (!cmd || !name || !*name || !value)
		return;
	GANTRY_GROW(cmd->env, cmd->nenv + 2, cmd->aenv);
	cmd->env[cmd->nenv++] = gantry_xstrdup(name);
	cmd->env[cmd->nenv++] = gantry_xstrdup(value);
}

void gantry_cmd_cwd(struct gantry_cmd *cmd, const char *dir)
{
	if (!cmd)
		return;
	free(cmd->cwd);
	cmd->cwd = dir ? gantry_xstrdup(dir) : NULL;
}

void gantry_cmd_timeout(struct gantry_cmd *cmd, unsigned seconds)
{
	if (cmd)
		cmd->timeout = seconds;
}

void gantry_cmd_stdin(struct gantry_cmd *cmd, const char *data, size_t len)
{
	if (!cmd)
		return;
	free(cmd->in);
	cmd->in = gantry_xstrndup(data ? data : "", data ? len : 0);
	cmd->inlen = data ? len : 0;
	cmd->has_in = 1;
}

void gantry_cmd_on_line(struct gantry_cmd *cmd, gantry_cmd_line_fn fn,
			void *arg)
{
	if (!cmd)
		return;
	cmd->fn = fn;
	cmd->fn_arg = arg;
}

void gantry_cmd_keep_lines(struct gantry_cmd *cmd, size_t n)
{
	if (cmd)
		cmd->keep = n;
}

void gantry_cmd_capture(struct gantry_cmd *cmd)
{
	if (cmd)
		cmd->capture = 1;
}

int gantry_cmd_exit_status(const struct gantry_cmd *cmd)
{
	return cmd ? cmd->status : -1;
}

int gantry_cmd_signal(const struct gantry_cmd *cmd)
{
	return cmd ? cmd->sig : 0;
}

const char *gantry_cmd_tail(const struct gantry_cmd *cmd)
{
	return cmd && cmd->tail ? cmd->tail : "";
}

const char *gantry_cmd_stdout(const struct gantry_cmd *cmd)
{
	return cmd ? cmd->out.buf : "";
}

const char *gantry_cmd_error(const struct gantry_cmd *cmd)
{
	return cmd ? cmd->error : NULL;
}

static void ring_clear(struct gantry_cmd *cmd)
{
	size_t i;

	for (i = 0; i < cmd->nring; i++)
		free(cmd->ring[i]);
	free(cmd->ring);
	cmd->ring = NULL;
	cmd->nring = cmd->ring_pos = 0;
}

static void results_clear(struct gantry_cmd *cmd)
{
	ring_clear(cmd);
	gantry_buf_release(&cmd->out);
	free(cmd->tail);
	cmd->tail = NULL;
	free(cmd->error);
	cmd->error = NULL;
	cmd->status = -1;
	cmd->sig = 0;
	cmd->muted = 0;
}

void gantry_cmd_free(struct gantry_cmd *cmd)
{
	size_t i;

	if (!cmd)
		return;
	results_clear(cmd);
	for (i = 0; i < cmd->argc; i++)
		free(cmd->argv[i]);
	free(cmd->argv);
	for (i = 0; i < cmd->nenv; i++)
		free(cmd->env[i]);
	free(cmd->env);
	free(cmd->cwd);
	free(cmd->in);
	free(cmd);
}

static void ring_add(struct gantry_cmd *cmd, const char *line)
{
	if (!cmd->keep)
		return;
	if (!cmd->ring)
		cmd->ring = gantry_xcalloc(cmd->keep, sizeof(*cmd->ring));
	if (cmd->nring < cmd->keep) {
		cmd->ring[cmd->nring++] = gantry_xstrdup(line);
		return;
	}
	free(cmd->ring[cmd->ring_pos]);
	cmd->ring[cmd->ring_pos] = gantry_xstrdup(line);
	cmd->ring_pos = (cmd->ring_pos + 1) % cmd->keep;
}

static void build_tail(struct gantry_cmd *cmd)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	size_t i;

	for (i = 0; i < cmd->nring; i++) {
		if (i)
			gantry_buf_addch(&b, '\n');
		gantry_buf_adds(&b, cmd->ring[(cmd->ring_pos + i) %
						 cmd->nring]);
	}
	free(cmd->tail);
	cmd->tail = gantry_buf_detach(&b);
}

/* Returns the callback's verdict: non-zero asks to stop the program. */
static int emit_line(struct gantry_cmd *cmd, struct gantry_ctx *ctx,
		     enum gantry_cmd_stream which, char *line, size_t len)
{
	if (len && line[len - 1] == '\r')
		line[--len] = '\0';
	ring_add(cmd, line);
	if (!cmd->fn) {
		gantry_log(ctx, GANTRY_LOG_INFO, "%s", line);
		return 0;
	}
	if (cmd->fn(cmd->fn_arg, which, line))
		cmd->muted = 1;
	return cmd->muted;
}

/* Hands out every complete line of s (and, at_eof, the unterminated
   rest).  Returns non-zero when the callback asked to stop. */
static int split_lines(struct gantry_cmd *cmd, struct gantry_ctx *ctx,
		       struct cmd_stream *s, int at_eof)
{
	struct gantry_buf *p = &s->partial;
	size_t start = 0, i;
	int stop = 0;

	/* Once the callback has said stop, output is only drained. */
	if (cmd->muted) {
		gantry_buf_reset(p);
		return 1;
	}
	for (i = 0; i < p->len && !stop; i++) {
		if (p->buf[i] != '\n' && i - start < CMD_MAX_LINE)
			continue;
		if (p->buf[i] == '\n') {
			p->buf[i] = '\0';
			stop = emit_line(cmd, ctx, s->which, p->buf + start,
					 i - start);
			start = i + 1;
		} else {
			/* An over-long line: hand out its first part. */
			char c = p->buf[i];

			p->buf[i] = '\0';
			stop = emit_line(cmd, ctx, s->which, p->buf + start,
					 i - start);
			p->buf[i] = c;
			start = i;
			i--;
		}
	}
	if (at_eof && !stop && start < p->len) {
		stop = emit_line(cmd, ctx, s->which, p->buf + start,
				 p->len - start);
		start = p->len;
	}
	if (start >= p->len) {
		gantry_buf_reset(p);
	} else if (start) {
		memmove(p->buf, p->buf + start, p->len - start);
		p->len -= start;
		p->buf[p->len] = '\0';
	}
	return stop;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/*
 * The child: runs between fork and exec, so it touches only what it must
 * and reports a failure as (step, errno) on the CLOEXEC status pipe.
 */
static void child_exec(struct gantry_cmd *cmd, int in_fd, int out_fd,
		       int err_fd, int status_fd)
{
	struct child_report rep = { STEP_SETUP, 0 };
	sigset_t none;
	size_t i;

	setpgid(0, 0);
	/* Dispositions the parent ignores would survive exec. */
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (dup2(in_fd, STDIN_FILENO) < 0 ||
	    dup2(out_fd, STDOUT_FILENO) < 0 ||
	    dup2(err_fd, STDERR_FILENO) < 0)
		goto fail;
#ifdef CLOSE_RANGE_CLOEXEC
	/* Descriptors someone opened without O_CLOEXEC (a lock file, say)
	   must not outlive us in a long-running grandchild. */
	close_range(3, ~0u, CLOSE_RANGE_CLOEXEC);
#endif
	for (i = 0; i + 1 < cmd->nenv; i += 2)
		if (setenv(cmd->env[i], cmd->env[i + 1], 1) < 0)
			goto fail;
	if (cmd->cwd && chdir(cmd->cwd) < 0) {
		rep.step = STEP_CHDIR;
		goto fail;
	}
	rep.step = STEP_EXEC;
	execvp(cmd->argv[0], cmd->argv);
fail:
	rep.err = errno;
	if (write(status_fd, &rep, sizeof(rep)) < 0) {
		/* the parent sees a bare exit 127 */
	}
	_exit(127);
}

static void describe_failure(struct gantry_cmd *cmd,
			     const struct child_report *rep)
{
	free(cmd->error);
	if (rep->step == STEP_CHDIR)
		cmd->error = gantry_xasprintf("cannot chdir to '%s': %s",
						cmd->cwd, strerror(rep->err));
	else if (rep->step == STEP_EXEC)
		cmd->error = gantry_xasprintf("cannot run '%s': %s",
						cmd->argv[0],
						strerror(rep->err));
	else
		cmd->error = gantry_xasprintf("cannot start '%s': %s",
						cmd->argv[0],
						strerror(rep->err));
}

static void set_status(struct gantry_cmd *cmd, int wstatus)
{
	if (WIFEXITED(wstatus)) {
		cmd->status = WEXITSTATUS(wstatus);
		cmd->sig = 0;
	} else if (WIFSIGNALED(wstatus)) {
		cmd->status = -1;
		cmd->sig = WTERMSIG(wstatus);
	}
}

static pid_t wait_child(pid_t pid, int *wstatus, int flags)
{
	pid_t r;

	do
		r = waitpid(pid, wstatus, flags);
	while (r < 0 && errno == EINTR);
	return r;
}

/*
 * Writes what fits of the pending stdin data.  SIGPIPE is blocked for
 * the write so a program that stops reading early cannot kill us, and a
 * SIGPIPE it raises is consumed before the mask is restored.
 */
static void feed_stdin(struct gantry_cmd *cmd, int *fd, size_t *done)
{
	sigset_t pipe_set, old, pending;
	struct timespec zero = { 0, 0 };
	int was_pending;
	ssize_t n;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	n = write(*fd, cmd->in + *done, cmd->inlen - *done);
	if (n < 0 && errno == EPIPE && !was_pending)
		sigtimedwait(&pipe_set, NULL, &zero);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (n > 0)
		*done += (size_t)n;
	else if (n < 0 && errno != EAGAIN && errno != EINTR)
		*done = cmd->inlen;	/* the program closed its stdin */
	if (*done >= cmd->inlen)
		close_fd(fd);
}

/* Reads what is there; returns non-zero when a line callback said stop. */
static int drain(struct gantry_cmd *cmd, struct gantry_ctx *ctx,
		 struct cmd_stream *s)
{
	char chunk[16384];
	ssize_t n = read(s->fd, chunk, sizeof(chunk));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		close_fd(&s->fd);
		return split_lines(cmd, ctx, s, 1);
	}
	if (cmd->capture && s->which == GANTRY_CMD_STDOUT &&
	    cmd->out.len < CMD_MAX_CAPTURE) {
		size_t room = CMD_MAX_CAPTURE - cmd->out.len;

		gantry_buf_add(&cmd->out, chunk,
				 (size_t)n < room ? (size_t)n : room);
	}
	gantry_buf_add(&s->partial, chunk, (size_t)n);
	return split_lines(cmd, ctx, s, 0);
}

/*
 * Watches the running child until it has exited and its output is read.
 * Returns 0, GANTRY_ETIMEOUT or GANTRY_EINTERRUPTED.
 */
static int supervise(struct gantry_cmd *cmd, struct gantry_ctx *ctx,
		     pid_t pid, int in_fd, struct cmd_stream *streams)
{
	double deadline = cmd->timeout ? gantry_now() + cmd->timeout : 0;
	double kill_at = 0;
	size_t in_done = 0;
	int reaped = 0, stopping = 0, result = 0, wstatus = 0, i;

	if (in_fd >= 0 && !cmd->inlen)
		close_fd(&in_fd);
	for (;;) {
		struct pollfd pfd[3];
		struct cmd_stream *who[3];
		int nfd = 0, n;
		double now;

		for (i = 0; i < 2; i++) {
			if (streams[i].fd < 0)
				continue;
			pfd[nfd].fd = streams[i].fd;
			pfd[nfd].events = POLLIN;
			who[nfd++] = &streams[i];
		}
		if (in_fd >= 0) {
			pfd[nfd].fd = in_fd;
			pfd[nfd].events = POLLOUT;
			who[nfd++] = NULL;
		}
		if (reaped && !nfd)
			break;

		/* With both pipes at EOF the program is exiting: check on
		   it often rather than sleeping a whole poll interval. */
		n = poll(pfd, (nfds_t)nfd, nfd ? CMD_POLL_MS : 2);
		if (n < 0 && errno != EINTR)
			break;
		for (i = 0; n > 0 && i < nfd; i++) {
			if (!pfd[i].revents)
				continue;
			if (!who[i]) {
				if (pfd[i].revents & (POLLERR | POLLHUP))
					close_fd(&in_fd);
				else
					feed_stdin(cmd, &in_fd, &in_done);
			} else if (drain(cmd, ctx, who[i]) && !stopping &&
				   !reaped) {
				/* The caller has seen enough. */
				stopping = 1;
				kill(-pid, SIGTERM);
				kill_at = gantry_now() + CMD_KILL_GRACE;
			}
		}

		if (reaped) {
			/*
			 * A program that left a background process holding
			 * our pipes must not keep us here: once it has
			 * exited, read until a poll interval passes quietly.
			 */
			if (n == 0)
				break;
			continue;
		}
		if (wait_child(pid, &wstatus, WNOHANG) == pid) {
			reaped = 1;
			set_status(cmd, wstatus);
			close_fd(&in_fd);
			continue;
		}

		now = gantry_now();
		if (!stopping && deadline && now >= deadline) {
			result = GANTRY_ETIMEOUT;
		} else if (!stopping && gantry_i_interrupted) {
			result = GANTRY_EINTERRUPTED;
		} else {
			if (stopping && now >= kill_at) {
				kill(-pid, SIGKILL);
				kill_at = now + 3600;
			}
			continue;
		}
		stopping = 1;
		kill(-pid, SIGTERM);
		kill_at = now + CMD_KILL_GRACE;
	}

	close_fd(&in_fd);
	if (!reaped) {
		/* Only a poll() failure gets here with the child alive. */
		kill(-pid, SIGKILL);
		if (wait_child(pid, &wstatus, 0) == pid)
			set_status(cmd, wstatus);
	}
	for (i = 0; i < 2; i++) {
		if (streams[i].fd >= 0) {
			close_fd(&streams[i].fd);
			split_lines(cmd, ctx, &streams[i], 1);
		}
	}
	return result;
}

static int make_pipe(int fds[2])
{
	return pipe2(fds, O_CLOEXEC);
}

int gantry_cmd_run(struct gantry_cmd *cmd, struct gantry_ctx *ctx)
{
	struct cmd_stream streams[2] = {
		{ -1, GANTRY_CMD_STDOUT, GANTRY_BUF_INIT },
		{ -1, GANTRY_CMD_STDERR, GANTRY_BUF_INIT }
	};
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
	int st[2] = { -1, -1 };
	struct child_report rep;
	ssize_t n;
	pid_t pid;
	int result, wstatus, i;

	if (!cmd)
		return GANTRY_EFAIL;
	results_clear(cmd);

	if (cmd->has_in) {
		if (make_pipe(in) < 0)
			in[0] = -1;
	} else {
		in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	if (in[0] < 0 || make_pipe(out) < 0 || make_pipe(err) < 0 ||
	    make_pipe(st) < 0) {
		cmd->error = gantry_xasprintf("cannot start '%s': %s",
						cmd->argv[0], strerror(errno));
		result = GANTRY_EFAIL;
		goto out;
	}

	pid = fork();
	if (pid < 0) {
		cmd->error = gantry_xasprintf("cannot start '%s': fork: %s",
						cmd->argv[0], strerror(errno));
		result = GANTRY_EFAIL;
		goto out;
	}
	if (pid == 0)
		child_exec(cmd, in[0], out[1], err[1], st[1]);

	/* Also from here, so a kill(-pid) right away cannot miss. */
	setpgid(pid, pid);
	close_fd(&in[0]);
	close_fd(&out[1]);
	close_fd(&err[1]);
	close_fd(&st[1]);

	/* End of file on the status pipe means exec succeeded. */
	do
		n = read(st[0], &rep, sizeof(rep));
	while (n < 0 && errno == EINTR);
	close_fd(&st[0]);
	if (n == (ssize_t)sizeof(rep)) {
		describe_failure(cmd, &rep);
		if (wait_child(pid, &wstatus, 0) == pid)
			set_status(cmd, wstatus);
		result = GANTRY_EFAIL;
		goto out;
	}

	if (in[1] >= 0)
		fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
	streams[0].fd = out[0];
	streams[1].fd = err[0];
	out[0] = err[0] = -1;
	result = supervise(cmd, ctx, pid, in[1], streams);
	in[1] = -1;	/* supervise closed it */

out:
	close_fd(&in[0]);
	close_fd(&in[1]);
	close_fd(&out[0]);
	close_fd(&out[1]);
	close_fd(&err[0]);
	close_fd(&err[1]);
	close_fd(&st[0]);
	close_fd(&st[1]);
	for (i = 0; i < 2; i++) {
		close_fd(&streams[i].fd);
		gantry_buf_release(&streams[i].partial);
	}
	build_tail(cmd);
	return result;
}
