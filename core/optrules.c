/*
 * optrules.c - ranges and choices of stage options (ABI 1.1): checking a
 * descriptor's rules when it is loaded, describing them, and enforcing
 * them on the values of a configuration.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "optrules.h"

const struct gantry_option_rule *optrules_at(const struct gantry_stage *d,
					     size_t i)
{
	const struct gantry_option_rule *r;

	/* An ABI 1.0 descriptor ends before these fields: never read them. */
	if (!GANTRY_STAGE_HAS_FIELD(d, option_rule_size) || !d->option_rules ||
	    d->option_rule_size < GANTRY_OPTION_RULE_SIZE_1_1)
		return NULL;
	/* Step by the plugin's element size, not ours: a plugin built
	   against a later minor has longer rules. */
	r = (const struct gantry_option_rule *)(const void *)
		((const char *)d->option_rules + i * d->option_rule_size);
	return r->key ? r : NULL;
}

const struct gantry_option_rule *optrules_find(const struct gantry_stage *d,
					       const char *key)
{
	const struct gantry_option_rule *r;
	size_t i;

	for (i = 0; (r = optrules_at(d, i)); i++)
		if (!strcmp(r->key, key))
			return r;
	return NULL;
}

const struct gantry_option *optrules_option(const struct gantry_stage *d,
					   const char *key)
{
	const struct gantry_option *o;

	for (o = d->options; o && o->key; o++)
		if (!strcmp(o->key, key))
			return o;
	return NULL;
}

static int in_range(const struct gantry_option_rule *r, long long v)
{
	return !((r->bounds & GANTRY_BOUND_MIN) && v < r->min) &&
	       !((r->bounds & GANTRY_BOUND_MAX) && v > r->max);
}

static int is_choice(const struct gantry_option_rule *r, const char *text)
{
	const char *const *c;

	for (c = r->choices; *c; c++)
		if (!strcmp(*c, text))
			return 1;
	return 0;
}

void optrules_describe(const struct gantry_option_rule *r,
		       struct gantry_buf *b)
{
	const char *const *c;

	if (r->choices) {
		gantry_buf_adds(b, "one of ");
		for (c = r->choices; *c; c++)
			gantry_buf_addf(b, "%s'%s'", c == r->choices ? "" :
					c[1] ? ", " : " or ", *c);
	} else if ((r->bounds & GANTRY_BOUND_MIN) &&
		   (r->bounds & GANTRY_BOUND_MAX)) {
		gantry_buf_addf(b, "%lld to %lld", (long long)r->min,
				(long long)r->max);
	} else if (r->bounds & GANTRY_BOUND_MIN) {
		gantry_buf_addf(b, "at least %lld", (long long)r->min);
	} else {
		gantry_buf_addf(b, "at most %lld", (long long)r->max);
	}
}

/* The rule's default check: an option's own default must pass it. */
static int check_default(const struct gantry_option *o,
			 const struct gantry_option_rule *r,
			 struct gantry_buf *what)
{
	long long v;
	char *end;

	if (!o->def || o->type == GANTRY_OPT_LIST)
		return 0;
	if (o->type == GANTRY_OPT_INT) {
		errno = 0;
		v = strtoll(o->def, &end, 10);
		if (!*o->def || *end || errno) {
			gantry_buf_addf(what, "option '%s' defaults to '%s', "
					"not an integer", o->key, o->def);
			return -1;
		}
		if (in_range(r, v))
			return 0;
	} else if (is_choice(r, o->def)) {
		return 0;
	}
	gantry_buf_addf(what, "option '%s' defaults to '%s', which its rule "
			"refuses (", o->key, o->def);
	optrules_describe(r, what);
	gantry_buf_addch(what, ')');
	return -1;
}

static int check_rule(const struct gantry_stage *d, size_t i,
		      const struct gantry_option_rule *r,
		      struct gantry_buf *what)
{
	const struct gantry_option *o = optrules_option(d, r->key);
	const char *const *c;
	size_t j;

	if (!o) {
		gantry_buf_addf(what, "rule %zu names option '%s', which the "
				"option table lacks", i + 1, r->key);
		return -1;
	}
	for (j = 0; j < i; j++)
		if (!strcmp(optrules_at(d, j)->key, r->key)) {
			gantry_buf_addf(what, "option '%s' has two rules",
					r->key);
			return -1;
		}
	if (r->bounds & ~(GANTRY_BOUND_MIN | GANTRY_BOUND_MAX)) {
		gantry_buf_addf(what, "the rule of option '%s' has unknown "
				"bounds 0x%x", r->key, r->bounds);
		return -1;
	}
	if (!r->bounds && !r->choices) {
		gantry_buf_addf(what, "the rule of option '%s' sets neither a "
				"range nor choices", r->key);
		return -1;
	}
	if (r->bounds && o->type != GANTRY_OPT_INT) {
		gantry_buf_addf(what, "option '%s' has a range but is not an "
				"integer option", r->key);
		return -1;
	}
	if (r->choices && o->type != GANTRY_OPT_STRING &&
	    o->type != GANTRY_OPT_LIST) {
		gantry_buf_addf(what, "option '%s' has choices but is not a "
				"string or list option", r->key);
		return -1;
	}
	if (r->bounds == (GANTRY_BOUND_MIN | GANTRY_BOUND_MAX) &&
	    r->min > r->max) {
		gantry_buf_addf(what, "option '%s' has an empty range %lld to "
				"%lld", r->key, (long long)r->min,
				(long long)r->max);
		return -1;
	}
	if (r->choices) {
		/* `plugins show` prints the choices: a secret has none. */
		if (o->flags & GANTRY_OPT_SECRET) {
			gantry_buf_addf(what, "option '%s' is a secret and "
					"cannot have choices", r->key);
			return -1;
		}
		if (!r->choices[0]) {
			gantry_buf_addf(what, "option '%s' has an empty list "
					"of choices", r->key);
			return -1;
		}
		for (c = r->choices; *c; c++)
			if (!**c) {
				gantry_buf_addf(what, "option '%s' has an "
						"empty choice", r->key);
				return -1;
			}
	}
	return check_default(o, r, what);
}

int optrules_check_descriptor(const struct gantry_stage *d,
			      struct gantry_buf *what)
{
	const struct gantry_option_rule *r;
	size_t i;

	if (!GANTRY_STAGE_HAS_FIELD(d, option_rule_size) || !d->option_rules)
		return 0;
	if (d->option_rule_size < GANTRY_OPTION_RULE_SIZE_1_1 ||
	    d->option_rule_size % _Alignof(struct gantry_option_rule)) {
		gantry_buf_addf(what, "option rules are %u bytes each, not a "
				"rule of ABI 1.1 (%zu bytes or more)",
				(unsigned)d->option_rule_size,
				(size_t)GANTRY_OPTION_RULE_SIZE_1_1);
		return -1;
	}
	for (i = 0; (r = optrules_at(d, i)); i++)
		if (check_rule(d, i, r, what) < 0)
			return -1;
	return 0;
}

int optrules_has_reference(const char *text)
{
	const char *p;

	for (p = text; (p = strstr(p, "${")); p += 2)
		if (p == text || p[-1] != '$')
			return 1;
	return 0;
}

/* One value refused: "WHERE: option 'KEY' of stage 'E' must be X, not Y". */
static void refuse_value(const struct gantry_config *c, const char *key,
			 size_t member, const struct gantry_option_rule *r,
			 const struct gantry_option *o, const char *entry,
			 struct errs *e)
{
	struct gantry_buf allowed = GANTRY_BUF_INIT, subject = GANTRY_BUF_INIT;
	struct gantry_buf shown = GANTRY_BUF_INIT;
	const char *dym = NULL;
	char *text;

	optrules_describe(r, &allowed);
	if (member == (size_t)-1)
		gantry_buf_addf(&subject, "option '%s'", key);
	else
		gantry_buf_addf(&subject, "'%s[%zu]'", key, member);
	if (o->flags & GANTRY_OPT_SECRET) {
		/* Never quote a secret, not even a wrong one. */
	} else if (c->type == GANTRY_OPT_INT) {
		gantry_buf_addf(&shown, ", not %lld", c->ival);
	} else if (c->text) {
		text = errs_shown(c->text, 64);
		gantry_buf_addf(&shown, ", not '%s'", text);
		free(text);
		if (c->type == GANTRY_OPT_STRING && r->choices) {
			size_t n = 0;

			while (r->choices[n])
				n++;
			dym = did_you_mean(c->text, r->choices, n);
		}
	} else {
		gantry_buf_adds(&shown, ", not a list or group");
	}
	errs_add(e, "%s: %s of stage '%s' must be %s%s%s%s%s", c->where,
		 subject.buf, entry, allowed.buf, shown.buf,
		 dym ? "; did you mean '" : "", dym ? dym : "", dym ? "'?" : "");
	gantry_buf_release(&allowed);
	gantry_buf_release(&subject);
	gantry_buf_release(&shown);
}

/* True when the scalar c passes r; values with references pass when
   literal_only (they are checked once resolved). */
static int value_ok(const struct gantry_config *c,
		    const struct gantry_option_rule *r, int literal_only)
{
	if (r->choices) {
		if (c->type != GANTRY_OPT_STRING)
			return 0;
		if (literal_only && optrules_has_reference(c->text))
			return 1;
		return is_choice(r, c->text);
	}
	return in_range(r, c->ival);
}

int optrules_check_options(const struct gantry_stage *d,
			   const struct gantry_config *opts,
			   const char *entry, int literal_only,
			   struct errs *e)
{
	const struct gantry_option_rule *r;
	const struct gantry_option *o;
	size_t i, k;
	int bad = 0;

	for (i = 0; opts && i < opts->nkids; i++) {
		const struct gantry_config *c = opts->kids[i];

		if (!(r = optrules_find(d, c->name)) ||
		    !(o = optrules_option(d, c->name)))
			continue;
		/* A value of the wrong type was refused for its type. */
		if (o->type == GANTRY_OPT_LIST && c->type == GANTRY_OPT_LIST) {
			for (k = 0; k < c->nkids; k++)
				if (!value_ok(c->kids[k], r, literal_only)) {
					refuse_value(c->kids[k], c->name, k, r,
						     o, entry, e);
					bad = 1;
				}
		} else if (o->type == c->type && !value_ok(c, r,
							    literal_only)) {
			refuse_value(c, c->name, (size_t)-1, r, o, entry, e);
			bad = 1;
		}
	}
	return bad ? -1 : 0;
}
