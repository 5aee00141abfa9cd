/*
 * optrules.c - ranges and choices of stage options (ABI 1.1), decimal
 * ranges and conditions on another option (ABI 1.2): checking a
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

void optrules_full(const struct gantry_stage *d,
		   const struct gantry_option_rule *r,
		   struct gantry_option_rule *out)
{
	size_t n = d->option_rule_size < sizeof(*out) ?
		   d->option_rule_size : sizeof(*out);

	/* An ABI 1.1 rule ends before the 1.2 fields: they read as unset. */
	memset(out, 0, sizeof(*out));
	memcpy(out, r, n);
}

/* text as a decimal number: optional '-', digits, optionally '.' and
   digits.  Sets *v and *places (digits after the point, trailing zeros
   not counted); 0, or -1 when text is not one. */
static int decimal_parse(const char *text, double *v, unsigned *places)
{
	const char *p = text, *dot;
	size_t n;

	if (*p == '-')
		p++;
	n = strspn(p, "0123456789");
	if (!n)
		return -1;
	p += n;
	dot = p;
	if (*p == '.') {
		n = strspn(++p, "0123456789");
		if (!n)
			return -1;
		p += n;
	}
	if (*p)
		return -1;
	*places = 0;
	if (*dot == '.') {
		const char *end = p;

		while (end > dot + 1 && end[-1] == '0')
			end--;
		*places = (unsigned)(end - dot - 1);
	}
	*v = strtod(text, NULL);
	return 0;
}

int optrules_decimal_normalise(const char *text, struct gantry_buf *out)
{
	double v;
	unsigned places;
	const char *p = text, *dot;

	if (decimal_parse(text, &v, &places) < 0)
		return -1;
	/* "-0.0" is 0. */
	if (*p == '-' && *p++ && v != 0)
		gantry_buf_addch(out, '-');
	while (*p == '0' && p[1] >= '0' && p[1] <= '9')
		p++;
	dot = p + strspn(p, "0123456789");
	gantry_buf_add(out, p, (size_t)(dot - p));
	if (places)
		gantry_buf_add(out, dot, places + 1);
	return 0;
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

/* A full rule (optrules_full) with a decimal range passes text. */
static int in_decimal_range(const struct gantry_option_rule *r,
			    const char *text)
{
	double v, lo = 0, hi = 0;
	unsigned places, ignored;

	if (decimal_parse(text, &v, &places) < 0)
		return 0;
	if (!r->bounds)
		return 1;
	if ((r->bounds & GANTRY_BOUND_MIN) &&
	    decimal_parse(r->decimal_min, &lo, &ignored) == 0 && v < lo)
		return 0;
	if ((r->bounds & GANTRY_BOUND_MAX) &&
	    decimal_parse(r->decimal_max, &hi, &ignored) == 0 && v > hi)
		return 0;
	return places <= r->decimal_places;
}

static int is_when_value(const struct gantry_option_rule *r, const char *text)
{
	const char *const *c;

	for (c = r->when_values; *c; c++)
		if (!strcmp(*c, text))
			return 1;
	return 0;
}

static int is_choice(const struct gantry_option_rule *r, const char *text)
{
	const char *const *c;

	for (c = r->choices; *c; c++)
		if (!strcmp(*c, text))
			return 1;
	return 0;
}

void optrules_describe(const struct gantry_stage *d,
		       const struct gantry_option_rule *rule,
		       struct gantry_buf *b)
{
	struct gantry_option_rule full, *r = &full;
	const char *const *c;

	optrules_full(d, rule, &full);
	if (r->decimal_min || r->decimal_max) {
		if ((r->bounds & GANTRY_BOUND_MIN) &&
		    (r->bounds & GANTRY_BOUND_MAX))
			gantry_buf_addf(b, "%s to %s", r->decimal_min,
					r->decimal_max);
		else if (r->bounds & GANTRY_BOUND_MIN)
			gantry_buf_addf(b, "at least %s", r->decimal_min);
		else
			gantry_buf_addf(b, "at most %s", r->decimal_max);
		if (r->decimal_places)
			gantry_buf_addf(b, " with at most %u decimal place%s",
					r->decimal_places,
					r->decimal_places == 1 ? "" : "s");
		else
			gantry_buf_adds(b, ", a whole number");
	} else if (!r->bounds && !r->choices) {
		gantry_buf_adds(b, "any value");
	} else if (r->choices) {
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

void optrules_describe_when(const struct gantry_stage *d,
			    const struct gantry_option_rule *rule,
			    struct gantry_buf *b)
{
	struct gantry_option_rule r;
	const char *const *c;

	optrules_full(d, rule, &r);
	if (!r.when)
		return;
	gantry_buf_addf(b, "only when '%s' is ", r.when);
	for (c = r.when_values; *c; c++)
		gantry_buf_addf(b, "%s'%s'", c == r.when_values ? "" :
				c[1] ? ", " : " or ", *c);
}

/* The rule's default check: an option's own default must pass it. */
static int check_default(const struct gantry_stage *d,
			 const struct gantry_option *o,
			 const struct gantry_option_rule *r,
			 struct gantry_buf *what)
{
	long long v;
	char *end;

	if (!o->def || o->type == GANTRY_OPT_LIST)
		return 0;
	if (o->type == GANTRY_OPT_DECIMAL) {
		if (in_decimal_range(r, o->def))
			return 0;
	} else if (!r->bounds && !r->choices) {
		return 0;
	} else if (o->type == GANTRY_OPT_INT) {
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
	optrules_describe(d, r, what);
	gantry_buf_addch(what, ')');
	return -1;
}

/* The ABI 1.2 parts of a rule: decimal bounds and the condition. */
static int check_rule_1_2(const struct gantry_stage *d,
			  const struct gantry_option *o,
			  const struct gantry_option_rule *r,
			  struct gantry_buf *what)
{
	const struct gantry_option *k;
	const struct gantry_option_rule *kr;
	const char *const *c;
	double lo = 0, hi = 0;
	unsigned places;

	if (o->type == GANTRY_OPT_DECIMAL && r->bounds) {
		if (((r->bounds & GANTRY_BOUND_MIN) &&
		     (!r->decimal_min ||
		      decimal_parse(r->decimal_min, &lo, &places) < 0)) ||
		    ((r->bounds & GANTRY_BOUND_MAX) &&
		     (!r->decimal_max ||
		      decimal_parse(r->decimal_max, &hi, &places) < 0))) {
			gantry_buf_addf(what, "option '%s' is a decimal "
					"option and needs its bounds as decimal "
					"text (GANTRY_DECIMAL_RANGE)", r->key);
			return -1;
		}
		if (r->bounds == (GANTRY_BOUND_MIN | GANTRY_BOUND_MAX) &&
		    lo > hi) {
			gantry_buf_addf(what, "option '%s' has an empty range "
					"%s to %s", r->key, r->decimal_min,
					r->decimal_max);
			return -1;
		}
		if (r->decimal_places > 15) {
			gantry_buf_addf(what, "option '%s' allows %u decimal "
					"places, more than the 15 a double "
					"holds", r->key, r->decimal_places);
			return -1;
		}
	} else if (r->decimal_min || r->decimal_max) {
		gantry_buf_addf(what, "option '%s' has a decimal range but is "
				"not a decimal option", r->key);
		return -1;
	}
	if (!r->when != !r->when_values) {
		gantry_buf_addf(what, "the condition of option '%s' needs an "
				"option and its values (GANTRY_ONLY_WHEN)",
				r->key);
		return -1;
	}
	if (!r->when)
		return 0;
	k = optrules_option(d, r->when);
	if (!k || k == o) {
		gantry_buf_addf(what, "option '%s' applies only when '%s' is "
				"set, which %s", r->key, r->when, k ?
				"is itself" : "the option table lacks");
		return -1;
	}
	if ((k->type != GANTRY_OPT_STRING && k->type != GANTRY_OPT_INT &&
	     k->type != GANTRY_OPT_BOOL) || (k->flags & GANTRY_OPT_SECRET)) {
		gantry_buf_addf(what, "option '%s' applies only when '%s' has "
				"some value, and '%s' is not a string, integer "
				"or boolean option that is not secret", r->key,
				r->when, r->when);
		return -1;
	}
	if (!r->when_values[0]) {
		gantry_buf_addf(what, "option '%s' applies only when '%s' has "
				"one of no values", r->key, r->when);
		return -1;
	}
	kr = optrules_find(d, r->when);
	for (c = r->when_values; *c; c++)
		if (kr && kr->choices && !is_choice(kr, *c)) {
			gantry_buf_addf(what, "option '%s' applies only when "
					"'%s' is '%s', which is not one of its "
					"choices", r->key, r->when, *c);
			return -1;
		}
	return 0;
}

static int check_rule(const struct gantry_stage *d, size_t i,
		      const struct gantry_option_rule *rule,
		      struct gantry_buf *what)
{
	const struct gantry_option *o = optrules_option(d, rule->key);
	struct gantry_option_rule full, *r = &full;
	const char *const *c;
	size_t j;

	optrules_full(d, rule, &full);

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
	if (!r->bounds && !r->choices && !r->when) {
		gantry_buf_addf(what, "the rule of option '%s' sets neither a "
				"range, choices nor a condition", r->key);
		return -1;
	}
	if (check_rule_1_2(d, o, r, what) < 0)
		return -1;
	if (r->bounds && o->type != GANTRY_OPT_INT &&
	    o->type != GANTRY_OPT_DECIMAL) {
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
	if (o->type == GANTRY_OPT_INT &&
	    r->bounds == (GANTRY_BOUND_MIN | GANTRY_BOUND_MAX) &&
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
	return check_default(d, o, r, what);
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
static void refuse_value(const struct gantry_stage *d,
			 const struct gantry_config *c, const char *key,
			 size_t member, const struct gantry_option_rule *r,
			 const struct gantry_option *o, const char *entry,
			 struct errs *e)
{
	struct gantry_buf allowed = GANTRY_BUF_INIT, subject = GANTRY_BUF_INIT;
	struct gantry_buf shown = GANTRY_BUF_INIT;
	const char *dym = NULL;
	char *text;

	if (r)
		optrules_describe(d, r, &allowed);
	else
		gantry_buf_adds(&allowed, "a decimal number (5, 2.5 or "
				"\"2.5\")");
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
		if (c->type == GANTRY_OPT_STRING && r && r->choices) {
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

/* True when the scalar c passes the full rule r (NULL: a decimal option
   without one); values with references pass when literal_only (they are
   checked once resolved). */
static int value_ok(const struct gantry_config *c,
		    const struct gantry_option *o,
		    const struct gantry_option_rule *r, int literal_only)
{
	if (o->type == GANTRY_OPT_DECIMAL) {
		if (c->type != GANTRY_OPT_DECIMAL)
			return 0;
		if (literal_only && optrules_has_reference(c->text))
			return 1;
		if (!r) {
			struct gantry_option_rule any = { .key = o->key };

			return in_decimal_range(&any, c->text);
		}
		return in_decimal_range(r, c->text);
	}
	if (r->choices) {
		if (c->type != GANTRY_OPT_STRING)
			return 0;
		if (literal_only && optrules_has_reference(c->text))
			return 1;
		return is_choice(r, c->text);
	}
	if (!r->bounds)
		return 1;
	return in_range(r, c->ival);
}

/*
 * The condition of the full rule r on option c: refused when the option
 * r->when is set (or defaults) to another value.  The option's own
 * default ("default") is never refused: the condition is on what the
 * profile wrote.
 */
static int when_ok(const struct gantry_stage *d,
		   const struct gantry_config *opts,
		   const struct gantry_config *c,
		   const struct gantry_option_rule *r, const char *entry,
		   int literal_only, struct errs *e)
{
	const struct gantry_option *k;
	const struct gantry_config *kc = NULL;
	const char *val, *where = "default";
	const char *q;
	size_t i;

	if (!r->when || !strcmp(c->where, "default"))
		return 0;
	k = optrules_option(d, r->when);
	for (i = 0; i < opts->nkids; i++)
		if (!strcmp(opts->kids[i]->name, r->when))
			kc = opts->kids[i];
	if (kc) {
		val = kc->text;
		where = kc->where;
		if (!val || (literal_only && optrules_has_reference(val)))
			return 0;
	} else {
		val = k->def;
	}
	if (val && is_when_value(r, val))
		return 0;
	q = k->type == GANTRY_OPT_STRING ? "\"" : "";
	{
		struct gantry_buf cond = GANTRY_BUF_INIT;

		optrules_describe_when(d, r, &cond);
		if (r->when_values[1])
			errs_add(e, "%s: option '%s' of stage '%s' applies %s, "
				 "and '%s' is %s%s%s (%s); remove '%s' or set "
				 "%s to one of those", c->where, c->name,
				 entry, cond.buf, r->when, val ? "'" : "",
				 val ? val : "unset", val ? "'" : "", where,
				 c->name, r->when);
		else
			errs_add(e, "%s: option '%s' of stage '%s' applies %s, "
				 "and '%s' is %s%s%s (%s); remove '%s' or set "
				 "%s = %s%s%s", c->where, c->name, entry,
				 cond.buf, r->when, val ? "'" : "",
				 val ? val : "unset", val ? "'" : "", where,
				 c->name, r->when, q, r->when_values[0], q);
		gantry_buf_release(&cond);
	}
	return -1;
}

int optrules_check_options(const struct gantry_stage *d,
			   const struct gantry_config *opts,
			   const char *entry, int literal_only,
			   struct errs *e)
{
	const struct gantry_option_rule *rule;
	struct gantry_option_rule full, *r;
	const struct gantry_option *o;
	size_t i, k;
	int bad = 0;

	for (i = 0; opts && i < opts->nkids; i++) {
		const struct gantry_config *c = opts->kids[i];

		if (!(o = optrules_option(d, c->name)))
			continue;
		rule = optrules_find(d, c->name);
		if (!rule && o->type != GANTRY_OPT_DECIMAL)
			continue;
		r = NULL;
		if (rule) {
			optrules_full(d, rule, &full);
			r = &full;
		}
		/* A value of the wrong type was refused for its type. */
		if (o->type == GANTRY_OPT_LIST && c->type == GANTRY_OPT_LIST) {
			for (k = 0; k < c->nkids; k++)
				if (!value_ok(c->kids[k], o, r,
					      literal_only)) {
					refuse_value(d, c->kids[k], c->name, k,
						     r, o, entry, e);
					bad = 1;
				}
		} else if (o->type == c->type) {
			if (!value_ok(c, o, r, literal_only)) {
				refuse_value(d, c, c->name, (size_t)-1, r, o,
					     entry, e);
				bad = 1;
			}
		} else {
			continue;
		}
		if (r && when_ok(d, opts, c, r, entry, literal_only, e) < 0)
			bad = 1;
	}
	return bad ? -1 : 0;
}
