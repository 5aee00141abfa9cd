/*
 * interp.c - resolving ${...} references in option values.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filecheck.h"
#include "interp.h"

struct interp {
	const struct gantry_kvlist *ctx;
	enum interp_mode mode;
	const char *entry;
	const char *base_dir;
	struct errs *e;
};

/* A secret file's content without its trailing newline.  Only a regular
   file is read: a FIFO there would block gantry forever (filecheck.h). */
static char *slurp(const char *path, struct gantry_buf *err)
{
	struct gantry_buf why = GANTRY_BUF_INIT;
	char *text = file_read_regular(path, 1u << 20, 0, NULL, &why);
	size_t n;

	if (!text) {
		gantry_buf_addf(err, "cannot read '%s': %s%s", path, why.buf,
				errno == EINVAL ? "; keep the secret in a "
				"regular file" : "");
		gantry_buf_release(&why);
		return NULL;
	}
	n = strlen(text);
	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		text[--n] = '\0';
	return text;
}

/*
 * ${secret:aws-sm:ID[#key]}: Secrets Manager, with the environment's AWS
 * settings (the aws.* context keys) and the usual credential chain.
 */
static char *aws_secret(struct interp *in, const struct gantry_config *node,
			const char *ref, const char *spec)
{
	struct gantry_ctx *ctx = gantry_i_ctx_new(in->entry);
	const char *hash = strchr(spec, '#');
	char *id = hash ? gantry_xstrndup(spec, (size_t)(hash - spec)) :
			  gantry_xstrdup(spec);
	struct gantry_aws *aws;
	char *val;
	size_t i;

	for (i = 0; in->ctx && i < in->ctx->n; i++)
		gantry_i_kv_set(&ctx->values, in->ctx->v[i].key,
				in->ctx->v[i].value, in->ctx->v[i].secret);
	aws = gantry_aws_new(ctx);
	val = *id ? gantry_aws_secret(aws, id, hash ? hash + 1 : NULL) : NULL;
	if (!val)
		errs_add(in->e, "%s: secret '${%s}' of stage '%s': %s",
			 node->where, ref, in->entry, *id ?
			 gantry_aws_error_line(aws) : "no secret id given");
	gantry_aws_free(aws);
	gantry_i_ctx_free(ctx);
	free(id);
	return val;
}

/*
 * Resolves one reference body (between "${" and "}").  Returns the value
 * (malloc'd), or NULL: *keep set when the reference stays as written
 * (plan mode, check mode), else an error was reported.
 */
static char *resolve_ref(struct interp *in, const struct gantry_config *node,
			 const char *ref, int *secret, int *keep)
{
	struct gantry_buf err = GANTRY_BUF_INIT;
	char *val = NULL;

	*keep = 0;
	if (!strncmp(ref, "secret:", 7)) {
		const char *src = ref + 7;

		*secret = 1;
		if (strncmp(src, "env:", 4) && strncmp(src, "file:", 5) &&
		    strncmp(src, "aws-sm:", 7)) {
			errs_add(in->e, "%s: unknown secret source in '${%s}' "
				 "(stage '%s'); use ${secret:env:NAME}, "
				 "${secret:file:PATH} or ${secret:aws-sm:ID}",
				 node->where, ref, in->entry);
			return NULL;
		}
		if (in->mode == INTERP_CHECK ||
		    (in->mode == INTERP_SECRETS && !strncmp(src, "aws-sm:", 7))) {
			*keep = 1;
			return NULL;
		}
		if (!strncmp(src, "env:", 4)) {
			const char *v = getenv(src + 4);

			if (!v || !*v) {
				errs_add(in->e, "%s: secret '${%s}' of stage "
					 "'%s' is not set; export %s", node->where,
					 ref, in->entry, src + 4);
				return NULL;
			}
			val = gantry_xstrdup(v);
		} else if (!strncmp(src, "file:", 5)) {
			char *path = src[5] == '/' ? gantry_xstrdup(src + 5) :
				gantry_xasprintf("%s/%s", in->base_dir, src + 5);

			val = slurp(path, &err);
			free(path);
			if (!val) {
				errs_add(in->e, "%s: secret '${%s}' of stage "
					 "'%s': %s", node->where, ref, in->entry,
					 err.buf);
				gantry_buf_release(&err);
				return NULL;
			}
		} else {
			val = aws_secret(in, node, ref, src + 7);
			if (!val)
				return NULL;
		}
		/* The redactor ignores values this short (they would hide
		   ordinary text), so such a secret would reach the logs. */
		if (strlen(val) < 4) {
			errs_add(in->e, "%s: secret '${%s}' of stage '%s' is "
				 "shorter than 4 bytes, too short to keep out "
				 "of logs; use a longer secret", node->where,
				 ref, in->entry);
			free(val);
			return NULL;
		}
		gantry_secret_add(val);
		return val;
	}
	if (!strncmp(ref, "env:", 4)) {
		const char *v;

		if (in->mode == INTERP_CHECK || in->mode == INTERP_SECRETS) {
			*keep = 1;
			return NULL;
		}
		v = getenv(ref + 4);
		if (!v) {
			errs_add(in->e, "%s: '${%s}' of stage '%s' is not set; "
				 "export %s", node->where, ref, in->entry,
				 ref + 4);
			return NULL;
		}
		return gantry_xstrdup(v);
	}
	if (!gantry_i_kv_valid_key(ref)) {
		errs_add(in->e, "%s: '${%s}' in stage '%s' is not a valid "
			 "reference; write ${key}, ${env:NAME} or "
			 "${secret:env:NAME}", node->where, ref, in->entry);
		return NULL;
	}
	if (in->mode != INTERP_CHECK) {
		const struct gantry_kv *kv = in->ctx ?
			gantry_i_kv_find(in->ctx, ref) : NULL;

		if (kv) {
			*secret = kv->secret;
			return gantry_xstrdup(kv->value);
		}
		if (in->mode == INTERP_RUN) {
			errs_add(in->e, "%s: '${%s}' in stage '%s' is not known "
				 "when the stage runs; an earlier stage must "
				 "publish it, or check the spelling",
				 node->where, ref, in->entry);
			return NULL;
		}
	}
	*keep = 1;
	return NULL;
}

static int resolve_text(struct interp *in, struct gantry_config *node)
{
	struct gantry_buf out = GANTRY_BUF_INIT;
	const char *p = node->text, *end;
	int bad = 0, secret = 0;

	if (!strchr(p, '$'))
		return 0;
	while (*p) {
		if (p[0] == '$' && p[1] == '$' && p[2] == '{') {
			gantry_buf_adds(&out, "${");
			p += 3;
			continue;
		}
		if (p[0] != '$' || p[1] != '{') {
			gantry_buf_addch(&out, *p++);
			continue;
		}
		end = strchr(p + 2, '}');
		if (!end) {
			errs_add(in->e, "%s: unterminated '${' in stage '%s'; "
				 "close it with '}' or write $${ for a literal",
				 node->where, in->entry);
			bad = 1;
			break;
		} else {
			char *ref = gantry_xstrndup(p + 2,
						      (size_t)(end - p - 2));
			int keep, sec = 0;
			char *val = resolve_ref(in, node, ref, &sec, &keep);

			if (val)
				gantry_buf_adds(&out, val);
			else if (keep)
				gantry_buf_add(&out, p, (size_t)(end - p + 1));
			else
				bad = 1;
			secret |= sec;
			free(val);
			free(ref);
			p = end + 1;
		}
	}
	if (!bad) {
		gantry_i_config_set_text(node, out.buf);
		node->secret |= secret;
	}
	gantry_buf_release(&out);
	return bad ? -1 : 0;
}

static int walk(struct interp *in, struct gantry_config *c)
{
	size_t i;
	int bad = 0;

	if (c->type == GANTRY_OPT_STRING && c->text)
		bad = resolve_text(in, c) < 0;
	for (i = 0; i < c->nkids; i++)
		if (walk(in, c->kids[i]) < 0)
			bad = 1;
	/* A value written in clear into a secret option is a secret too;
	   an unresolved reference is not (it is only its name). */
	if (!bad && c->secret && c->text && in->mode != INTERP_CHECK)
		gantry_secret_add(c->text);
	return bad ? -1 : 0;
}

int interp_resolve(struct gantry_config *tree, const struct gantry_kvlist *ctx,
		   enum interp_mode mode, const char *entry,
		   const char *base_dir, struct errs *e)
{
	struct interp in = { ctx, mode, entry, base_dir, e };

	return walk(&in, tree);
}
