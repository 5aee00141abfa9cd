/*
 * config.c - the read-only option trees stages see, and the calls the
 * core uses to build, merge and print them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct gantry_config *gantry_i_config_new(enum gantry_option_type type,
					  const char *name, const char *where)
{
	struct gantry_config *c = gantry_xcalloc(1, sizeof(*c));

	c->type = type;
	c->name = gantry_xstrdup(name ? name : "");
	c->where = gantry_xstrdup(where ? where : "default");
	return c;
}

void gantry_i_config_set_text(struct gantry_config *c, const char *text)
{
	free(c->text);
	c->text = gantry_xstrdup(text);
	if (c->type == GANTRY_OPT_INT)
		c->ival = strtoll(text, NULL, 0);
	else if (c->type == GANTRY_OPT_BOOL)
		c->bval = !strcmp(text, "true");
}

struct gantry_config *gantry_i_config_scalar(enum gantry_option_type type,
					     const char *name,
					     const char *text,
					     const char *where)
{
	struct gantry_config *c = gantry_i_config_new(type, name, where);

	gantry_i_config_set_text(c, text);
	return c;
}

void gantry_i_config_add(struct gantry_config *parent,
			 struct gantry_config *kid)
{
	GANTRY_GROW(parent->kids, parent->nkids + 1, parent->akids);
	parent->kids[parent->nkids++] = kid;
}

struct gantry_config *gantry_i_config_child(const struct gantry_config *c,
					    const char *name)
{
	size_t i;

	if (!c || c->type != GANTRY_OPT_GROUP)
		return NULL;
	for (i = 0; i < c->nkids; i++)
		if (!strcmp(c->kids[i]->name, name))
			return c->kids[i];
	return NULL;
}

void gantry_i_config_remove(struct gantry_config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nkids; i++) {
		if (strcmp(c->kids[i]->name, name))
			continue;
		gantry_i_config_free(c->kids[i]);
		memmove(c->kids + i, c->kids + i + 1,
			(c->nkids - i - 1) * sizeof(*c->kids));
		c->nkids--;
		return;
	}
}

struct gantry_config *gantry_i_config_clone(const struct gantry_config *c)
{
	struct gantry_config *n;
	size_t i;

	if (!c)
		return NULL;
	n = gantry_i_config_new(c->type, c->name, c->where);
	if (c->text)
		gantry_i_config_set_text(n, c->text);
	n->secret = c->secret;
	for (i = 0; i < c->nkids; i++)
		gantry_i_config_add(n, gantry_i_config_clone(c->kids[i]));
	return n;
}

void gantry_i_config_free(struct gantry_config *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nkids; i++)
		gantry_i_config_free(c->kids[i]);
	free(c->kids);
	free(c->name);
	free(c->text);
	free(c->where);
	free(c);
}

void gantry_i_config_merge(struct gantry_config *base,
			   const struct gantry_config *over)
{
	size_t i;

	for (i = 0; i < over->nkids; i++) {
		const struct gantry_config *o = over->kids[i];
		struct gantry_config *b = gantry_i_config_child(base, o->name);

		if (b && b->type == GANTRY_OPT_GROUP &&
		    o->type == GANTRY_OPT_GROUP) {
			gantry_i_config_merge(b, o);
			continue;
		}
		if (b)
			gantry_i_config_remove(base, o->name);
		gantry_i_config_add(base, gantry_i_config_clone(o));
	}
}

void gantry_i_config_to_json(const struct gantry_config *c,
			     struct gantry_buf *out)
{
	size_t i;

	switch (c->type) {
	case GANTRY_OPT_STRING:
		gantry_buf_add_json(out, c->secret ? "***" : c->text);
		break;
	case GANTRY_OPT_DECIMAL:
		/* A ${...} reference not yet resolved is no number. */
		if (!c->secret && c->text[strspn(c->text, "-.0123456789")]) {
			gantry_buf_add_json(out, c->text);
			break;
		}
		/* fall through */
	case GANTRY_OPT_INT:
	case GANTRY_OPT_BOOL:
		if (c->secret)
			gantry_buf_add_json(out, "***");
		else
			gantry_buf_adds(out, c->text);
		break;
	case GANTRY_OPT_LIST:
		gantry_buf_addch(out, '[');
		for (i = 0; i < c->nkids; i++) {
			if (i)
				gantry_buf_addch(out, ',');
			gantry_i_config_to_json(c->kids[i], out);
		}
		gantry_buf_addch(out, ']');
		break;
	case GANTRY_OPT_GROUP:
		gantry_buf_addch(out, '{');
		for (i = 0; i < c->nkids; i++) {
			if (i)
				gantry_buf_addch(out, ',');
			gantry_buf_add_json(out, c->kids[i]->name);
			gantry_buf_addch(out, ':');
			gantry_i_config_to_json(c->kids[i], out);
		}
		gantry_buf_addch(out, '}');
		break;
	}
}

/* One path step: "name" or "[N]"; returns the rest after the step. */
static const struct gantry_config *step(const struct gantry_config *c,
					const char *p, const char **rest)
{
	if (*p == '[') {
		char *end;
		unsigned long i = strtoul(p + 1, &end, 10);

		if (*end != ']' || !c || c->type != GANTRY_OPT_LIST ||
		    i >= c->nkids)
			return NULL;
		*rest = end + 1;
		return c->kids[i];
	} else {
		size_t n = strcspn(p, ".[");
		size_t i;

		*rest = p + n;
		if (!c || c->type != GANTRY_OPT_GROUP)
			return NULL;
		for (i = 0; i < c->nkids; i++)
			if (strlen(c->kids[i]->name) == n &&
			    !memcmp(c->kids[i]->name, p, n))
				return c->kids[i];
		return NULL;
	}
}

const struct gantry_config *gantry_config_lookup(const struct gantry_config *c,
						 const char *path)
{
	if (!path || !*path)
		return c;
	while (c && *path) {
		if (*path == '.')
			path++;
		c = step(c, path, &path);
	}
	return c;
}

enum gantry_option_type gantry_config_type(const struct gantry_config *c)
{
	return c ? c->type : 0;
}

const char *gantry_config_name(const struct gantry_config *c)
{
	return c ? c->name : "";
}

const char *gantry_config_where(const struct gantry_config *c)
{
	return c ? c->where : "default";
}

const char *gantry_config_string(const struct gantry_config *c,
				 const char *path, const char *def)
{
	c = gantry_config_lookup(c, path);
	return c && c->text ? c->text : def;
}

long long gantry_config_int(const struct gantry_config *c, const char *path,
			    long long def)
{
	c = gantry_config_lookup(c, path);
	return c && c->type == GANTRY_OPT_INT ? c->ival : def;
}

int gantry_config_bool(const struct gantry_config *c, const char *path,
		       int def)
{
	c = gantry_config_lookup(c, path);
	return c && c->type == GANTRY_OPT_BOOL ? c->bval : def;
}

double gantry_config_decimal(const struct gantry_config *c, const char *path,
			     double def)
{
	c = gantry_config_lookup(c, path);
	if (!c || !c->text || (c->type != GANTRY_OPT_DECIMAL &&
			       c->type != GANTRY_OPT_INT))
		return def;
	return strtod(c->text, NULL);
}

size_t gantry_config_length(const struct gantry_config *c)
{
	return c ? c->nkids : 0;
}

const struct gantry_config *gantry_config_at(const struct gantry_config *c,
					     size_t i)
{
	return c && i < c->nkids ? c->kids[i] : NULL;
}

const char *gantry_config_text(const struct gantry_config *c)
{
	return c ? c->text : NULL;
}
