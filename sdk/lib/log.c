/*
 * log.c - the one place text leaves a gantry process for stderr, the
 * redactor every such path (logs, errors, journal, notifications) uses,
 * and the sanitiser every line bound for a terminal goes through.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"

static char **secrets;
static size_t nsecrets, asecrets;
static int verbosity;
static int use_color;
static int live;		/* stderr takes \r and ESC[K */
static int status_shown;	/* this process drew a status line */

#define ERASE_LINE "\r\033[K"

static char *last_error;

static void secret_add_line(const char *value, size_t n);

void gantry_secret_add(const char *value)
{
	const char *p, *nl;
	size_t n;

	if (!value)
		return;
	secret_add_line(value, strlen(value));
	if (!strchr(value, '\n'))
		return;
	/* Output is redacted a line at a time (a stage's output arrives so):
	   every line of a multi-line secret (a PEM key) is a secret too. */
	for (p = value; *p; p = nl + (*nl == '\n')) {
		nl = p + strcspn(p, "\n");
		n = (size_t)(nl - p);
		if (n && p[n - 1] == '\r')
			n--;
		secret_add_line(p, n);
	}
}

/* Adds value[0..n) unless shorter than 4 bytes (too common to redact). */
static void secret_add_line(const char *value, size_t n)
{
	size_t i;

	if (n < 4)
		return;
	for (i = 0; i < nsecrets; i++)
		if (strlen(secrets[i]) == n && !memcmp(secrets[i], value, n))
			return;
	GANTRY_GROW(secrets, nsecrets + 1, asecrets);
	/* Keep longest first so a secret containing another is redacted
	   whole. */
	for (i = nsecrets; i > 0 && strlen(secrets[i - 1]) < n; i--)
		secrets[i] = secrets[i - 1];
	secrets[i] = gantry_xstrndup(value, n);
	nsecrets++;
}

size_t gantry_i_secret_count(void)
{
	return nsecrets;
}

const char *gantry_i_secret_at(size_t i)
{
	return i < nsecrets ? secrets[i] : NULL;
}

char *gantry_i_redact(const char *s)
{
	struct gantry_buf b = GANTRY_BUF_INIT;

	gantry_buf_adds(&b, s ? s : "");
	gantry_i_redact_buf(&b);
	return gantry_buf_detach(&b);
}

void gantry_i_redact_buf(struct gantry_buf *b)
{
	size_t i;

	for (i = 0; i < nsecrets; i++) {
		const char *sec = secrets[i];
		size_t sl = strlen(sec);
		struct gantry_buf out = GANTRY_BUF_INIT;
		const char *p = b->buf, *hit;

		if (!strstr(p, sec))
			continue;
		while ((hit = strstr(p, sec))) {
			gantry_buf_add(&out, p, (size_t)(hit - p));
			gantry_buf_adds(&out, "***");
			p = hit + sl;
		}
		gantry_buf_adds(&out, p);
		gantry_buf_release(b);
		*b = out;
	}
}

void gantry_i_log_setup(int v, int color)
{
	const char *term = getenv("TERM");

	verbosity = v;
	use_color = color;
	live = isatty(STDERR_FILENO) && term && *term && strcmp(term, "dumb");
}

void gantry_i_line_start(struct gantry_buf *b)
{
	if (live)
		gantry_buf_adds(b, ERASE_LINE);
	status_shown = 0;
}

void gantry_i_status_end(void)
{
	if (status_shown && write(STDERR_FILENO, ERASE_LINE,
				  sizeof(ERASE_LINE) - 1) < 0) {
		/* the terminal is gone */
	}
	status_shown = 0;
}

/* Cuts b (after its first `from` bytes) to `cols` characters of UTF-8,
   so the line never wraps: a wrapped line cannot be redrawn in place. */
static void fit_width(struct gantry_buf *b, size_t from, size_t cols)
{
	size_t i, n = 0;

	for (i = from; i < b->len; i++) {
		if (((unsigned char)b->buf[i] & 0xc0) == 0x80)
			continue;
		if (n++ == cols) {
			b->len = i;
			b->buf[i] = '\0';
			return;
		}
	}
}

void gantry_status(const struct gantry_ctx *ctx, const char *fmt, ...)
{
	const size_t start = sizeof(ERASE_LINE) - 1;
	struct gantry_buf b = GANTRY_BUF_INIT;
	struct winsize ws;
	size_t cols = 80;
	va_list ap;

	if (!live || verbosity < 0)
		return;
	if (!ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) && ws.ws_col > 1)
		cols = ws.ws_col;
	gantry_buf_adds(&b, ERASE_LINE);
	if (ctx && ctx->stage && *ctx->stage)
		gantry_buf_addf(&b, "  [%s] ", ctx->stage);
	va_start(ap, fmt);
	gantry_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	gantry_i_redact_buf(&b);
	/* One line, whatever the text held, and nothing a terminal acts
	   on. */
	gantry_i_term_clean(&b, start, GANTRY_I_TERM_SPACES);
	fit_width(&b, start, cols - 1);
	if (write(STDERR_FILENO, b.buf, b.len) >= 0)
		status_shown = 1;
	gantry_buf_release(&b);
}

void gantry_i_term_clean(struct gantry_buf *b, size_t from, int how)
{
	struct gantry_buf out = GANTRY_BUF_INIT;
	size_t i, n;
	long c;

	if (from >= b->len)
		return;
	for (i = from; i < b->len; i += n) {
		n = gantry_i_utf8_next(b->buf + i, b->len - i, &c);
		if (c >= 0xa0 || (c >= 0x20 && c < 0x7f)) {
			gantry_buf_add(&out, b->buf + i, n);
		} else if ((how & GANTRY_I_TERM_SPACES) &&
			   (c == '\n' || c == '\r' || c == '\t')) {
			gantry_buf_addch(&out, ' ');
		} else if ((how & (GANTRY_I_TERM_LINES | GANTRY_I_TERM_DOC)) &&
			   c == '\t') {
			gantry_buf_addch(&out, '\t');
		} else if ((how & GANTRY_I_TERM_DOC) && c == '\n') {
			gantry_buf_addch(&out, '\n');
		} else if ((how & GANTRY_I_TERM_LINES) && c == '\n') {
			/* Indented, a line of the text cannot pass for a
			   line of gantry's own or a row of `history`. */
			gantry_buf_adds(&out, "\n    ");
		} else if (c >= 0) {
			/* ESC, CR and the rest: seen, not obeyed. */
			gantry_buf_addf(&out, "\\x%02lx", (unsigned long)c);
		} else {
			size_t k;

			for (k = 0; k < n; k++)
				gantry_buf_addf(&out, "\\x%02x",
						(unsigned char)b->buf[i + k]);
		}
	}
	b->len = from;
	b->buf[from] = '\0';
	gantry_buf_add(b, out.buf, out.len);
	gantry_buf_release(&out);
}

void gantry_i_term_vprintf(FILE *f, const char *fmt, va_list ap)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	int nl;

	gantry_buf_vaddf(&b, fmt, ap);
	nl = b.len && b.buf[b.len - 1] == '\n';
	if (nl)
		b.buf[--b.len] = '\0';
	gantry_i_term_clean(&b, 0, 0);
	if (nl)
		gantry_buf_addch(&b, '\n');
	fputs(b.buf, f);
	gantry_buf_release(&b);
}

void gantry_i_term_printf(FILE *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gantry_i_term_vprintf(f, fmt, ap);
	va_end(ap);
}

int gantry_i_log_color(void)
{
	return use_color;
}

int gantry_i_log_verbosity(void)
{
	return verbosity;
}

const char *gantry_i_log_last_error(void)
{
	return last_error;
}

void gantry_logv(const struct gantry_ctx *ctx, enum gantry_log_level level,
		 const char *fmt, va_list ap)
{
	static const char *const tag[] = { "error: ", "warning: ", "", "" };
	static const char *const color[] = { "\033[31m", "\033[33m", "",
					     "\033[2m" };
	struct gantry_buf b = GANTRY_BUF_INIT;
	int c = use_color && level != GANTRY_LOG_INFO;
	size_t start, prefix;

	if ((int)level > verbosity + GANTRY_LOG_INFO)
		return;
	gantry_i_line_start(&b);
	if (c)
		gantry_buf_adds(&b, color[level]);
	start = b.len;
	if (ctx && ctx->stage && *ctx->stage)
		gantry_buf_addf(&b, "  [%s] ", ctx->stage);
	else
		gantry_buf_adds(&b, "gantry: ");
	gantry_buf_adds(&b, tag[level]);
	/* Stage output, tags, actors, quoted input: all of it is shown,
	   none of it drives the terminal.  Only the colours here do. */
	gantry_i_term_clean(&b, start, 0);
	prefix = b.len;
	gantry_buf_vaddf(&b, fmt, ap);
	gantry_i_redact_buf(&b);
	if (prefix > b.len)
		prefix = b.len;
	gantry_i_term_clean(&b, prefix, GANTRY_I_TERM_LINES);
	if (level == GANTRY_LOG_ERROR) {
		free(last_error);
		last_error = gantry_xstrdup(b.buf + prefix);
	}
	if (c)
		gantry_buf_adds(&b, "\033[0m");
	gantry_buf_addch(&b, '\n');
	/* One write per line keeps lines whole when several processes
	   share stderr. */
	if (write(STDERR_FILENO, b.buf, b.len) < 0) {
		/* nowhere left to report it */
	}
	gantry_buf_release(&b);
}

void gantry_log(const struct gantry_ctx *ctx, enum gantry_log_level level,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	gantry_logv(ctx, level, fmt, ap);
	va_end(ap);
}
