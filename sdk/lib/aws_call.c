/*
 * aws_call.c - the protocols over aws.c's signed requests: JSON 1.0/1.1,
 * Query (XML answers as JSON), REST-XML for S3, and Secrets Manager; and
 * what every call does first, the account check included.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_internal.h"
#include "transport.h"


/* Describe*, List*, Get*, BatchGet* only read. */
static int mutating(const char *operation)
{
	return strncmp(operation, "Describe", 8) &&
		strncmp(operation, "List", 4) &&
		strncmp(operation, "Get", 3) &&
		strncmp(operation, "BatchGet", 8);
}

static int check_account(struct gantry_aws *aws)
{
	static const char *const none[] = { NULL };
	struct gantry_json *id;
	int rc;

	if (!aws->account_id || aws->account_checked)
		return 0;
	if (!aws->identity_account) {
		rc = aws_i_query(aws, "sts", "GetCallerIdentity", &aws->creds,
				 none, &id);
		if (rc)
			return rc;
		aws->identity_account = gantry_xstrdup(gantry_json_string(
			id, "GetCallerIdentityResult.Account", ""));
		aws->identity_arn = gantry_xstrdup(gantry_json_string(
			id, "GetCallerIdentityResult.Arn", ""));
		gantry_json_free(id);
	}
	if (strcmp(aws->identity_account, aws->account_id))
		return 1;
	aws->account_checked = 1;
	return 0;
}

/*
 * What every call does first: report a bad setting, make the
 * credentials usable, and before a mutating call, check the account.
 * The error names the caller's operation unless an STS call failed.
 */
static int prepare(struct gantry_aws *aws, const char *service,
		   const char *operation, int writes)
{
	int rc;

	aws_i_begin(aws, service, operation);
	if (aws->config_error)
		return aws_i_fail(aws, GANTRY_ECONFIG, "", "%s",
				  aws->config_error);
	if ((rc = aws_i_creds(aws)))
		return rc;
	if (writes && (rc = check_account(aws)) < 0)
		return rc;
	aws_i_begin(aws, service, operation);
	if (rc > 0)
		return aws_i_fail(aws, GANTRY_ECONFIG, "WrongAccount",
				  "AWS credentials are for account %s (%s), "
				  "but the profile says aws.account_id = %s; "
				  "deploying with the wrong account's "
				  "credentials is refused: check "
				  "aws.role_arn / AWS_PROFILE",
				  aws->identity_account, aws->identity_arn,
				  aws->account_id);
	return 0;
}

int gantry_aws_json(struct gantry_aws *aws, const char *service,
		    const char *operation, const char *body,
		    struct gantry_json **out)
{
	const struct aws_service *svc = aws_i_service(service);
	struct aws_request req = { 0 };
	struct gantry_json *doc = NULL;
	char ctype[40], err[128];
	int rc;

	if (out)
		*out = NULL;
	if (!aws || !operation)
		return GANTRY_EFAIL;
	if (!svc || !svc->target) {
		aws_i_begin(aws, service, operation);
		return aws_i_fail(aws, GANTRY_EFAIL, "",
				  "'%s' is not an AWS service of the JSON "
				  "protocol", service ? service : "");
	}
	if ((rc = prepare(aws, service, operation, mutating(operation))))
		return rc;
	snprintf(ctype, sizeof(ctype), "application/x-amz-json-%s",
		 svc->json);
	req.svc = svc;
	req.operation = operation;
	req.method = "POST";
	req.path = "/";
	req.content_type = ctype;
	req.target = gantry_xasprintf("%s.%s", svc->target, operation);
	req.body = body ? body : "{}";
	req.len = strlen(req.body);
	req.creds = &aws->creds;
	gantry_buf_init(&req.resp);
	rc = aws_i_perform(aws, &req);
	if (!rc) {
		doc = gantry_json_parse(req.resp.len ? req.resp.buf : "{}",
					req.resp.len ? req.resp.len : 2,
					err, sizeof(err));
		if (!doc)
			rc = aws_i_fail(aws, GANTRY_EFAIL, "",
					"malformed JSON in the answer (%s)",
					err);
	}
	if (out)
		*out = doc;
	else
		gantry_json_free(doc);
	aws_i_request_release(&req);
	return rc;
}

static void form_add(struct gantry_buf *b, const char *name,
		     const char *value)
{
	if (b->len)
		gantry_buf_addch(b, '&');
	gantry_i_url_escape(b, name, strlen(name));
	gantry_buf_addch(b, '=');
	if (value)
		gantry_i_url_escape(b, value, strlen(value));
}

int aws_i_query(struct gantry_aws *aws, const char *service,
		const char *action, const struct aws_creds *creds,
		const char *const *params, struct gantry_json **out)
{
	const struct aws_service *svc = aws_i_service(service);
	struct aws_request req = { 0 };
	struct gantry_buf body = GANTRY_BUF_INIT;
	struct gantry_json *doc = NULL;
	char err[160];
	size_t i;
	int rc;

	*out = NULL;
	aws_i_begin(aws, service, action);
	form_add(&body, "Action", action);
	form_add(&body, "Version", svc->version);
	for (i = 0; params[i] && params[i + 1]; i += 2)
		form_add(&body, params[i], params[i + 1]);
	req.svc = svc;
	req.operation = action;
	req.method = "POST";
	req.path = "/";
	req.content_type = "application/x-www-form-urlencoded; charset=utf-8";
	req.body = body.buf;
	req.len = body.len;
	req.creds = creds;
	req.xml_errors = 1;
	gantry_buf_init(&req.resp);
	rc = aws_i_perform(aws, &req);
	if (!rc) {
		doc = aws_i_xml_to_json(req.resp.buf, req.resp.len, err,
					sizeof(err));
		if (!doc)
			rc = aws_i_fail(aws, GANTRY_EFAIL, "",
					"malformed XML in the answer (%s)",
					err);
	}
	*out = doc;
	aws_i_request_release(&req);
	gantry_buf_release(&body);
	return rc;
}

int gantry_aws_query(struct gantry_aws *aws, const char *service,
		     const char *action, struct gantry_json **out, ...)
{
	const struct aws_service *svc = aws_i_service(service);
	struct gantry_json *doc = NULL;
	const char **params = NULL;
	size_t n = 0, alloc = 0;
	const char *p;
	va_list ap;
	int rc;

	if (out)
		*out = NULL;
	if (!aws || !action)
		return GANTRY_EFAIL;
	if (!svc || !svc->version) {
		aws_i_begin(aws, service, action);
		return aws_i_fail(aws, GANTRY_EFAIL, "",
				  "'%s' is not an AWS service of the Query "
				  "protocol", service ? service : "");
	}
	/* STS calls change nothing in the account the check guards. */
	rc = prepare(aws, service, action,
		     strcmp(service, "sts") && mutating(action));
	if (rc)
		return rc;
	va_start(ap, out);
	do {
		p = va_arg(ap, const char *);
		GANTRY_GROW(params, n + 1, alloc);
		params[n++] = p;
	} while (p);
	va_end(ap);
	rc = aws_i_query(aws, service, action, &aws->creds, params, &doc);
	free(params);
	if (out)
		*out = doc;
	else
		gantry_json_free(doc);
	return rc;
}

/* "/bucket/key/with spaces" with each segment URI-encoded once, as
   SigV4 for S3 expects. */
static char *s3_path(const char *bucket, const char *key)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	const char *seg = key;

	gantry_buf_addch(&b, '/');
	gantry_i_url_escape(&b, bucket, strlen(bucket));
	if (!key)
		return gantry_buf_detach(&b);
	gantry_buf_addch(&b, '/');
	while (seg) {
		const char *slash = strchr(seg, '/');
		size_t n = slash ? (size_t)(slash - seg) : strlen(seg);

		gantry_i_url_escape(&b, seg, n);
		if (slash)
			gantry_buf_addch(&b, '/');
		seg = slash ? slash + 1 : NULL;
	}
	return gantry_buf_detach(&b);
}

int gantry_aws_s3(struct gantry_aws *aws, const char *method,
		  const char *bucket, const char *key, const char *body,
		  size_t len, long *status, char **resp, size_t *resp_len,
		  ...)
{
	const struct aws_service *svc = aws_i_service("s3");
	struct aws_request req = { 0 };
	const char **extra = NULL;
	size_t n = 0, alloc = 0;
	char *op, *path;
	const char *p;
	va_list ap;
	int rc, writes;

	if (status)
		*status = 0;
	if (resp)
		*resp = NULL;
	if (resp_len)
		*resp_len = 0;
	if (!aws || !method || !bucket || !*bucket)
		return GANTRY_EFAIL;
	op = gantry_xasprintf("%s %s%s%s", method, bucket, key ? "/" : "",
				key ? key : "");
	writes = !strcmp(method, "PUT") || !strcmp(method, "DELETE") ||
		!strcmp(method, "POST");
	if ((rc = prepare(aws, "s3", op, writes))) {
		free(op);
		return rc;
	}
	va_start(ap, resp_len);
	do {
		p = va_arg(ap, const char *);
		GANTRY_GROW(extra, n + 1, alloc);
		extra[n++] = p;
	} while (p);
	va_end(ap);

	path = s3_path(bucket, key);
	req.svc = svc;
	req.operation = op;
	req.method = method;
	req.path = path;
	if (body || writes)
		req.content_type = "application/octet-stream";
	req.body = body;
	req.len = body ? len : 0;
	req.creds = &aws->creds;
	req.s3 = 1;
	req.xml_errors = 1;
	req.extra = extra;
	gantry_buf_init(&req.resp);
	rc = aws_i_perform(aws, &req);
	if (status)
		*status = req.status;
	if (!rc && resp) {
		if (resp_len)
			*resp_len = req.resp.len;
		*resp = gantry_xstrndup(req.resp.buf, req.resp.len);
	}
	aws_i_request_release(&req);
	free(extra);
	free(path);
	free(op);
	return rc;
}

/*
 * Secrets Manager.
 */

static struct gantry_json *member(const struct gantry_json *obj,
				  const char *key)
{
	size_t i, n = gantry_json_keys(obj);

	/* Not gantry_json_get: keys may contain dots. */
	for (i = 0; i < n; i++)
		if (!strcmp(gantry_json_key_at(obj, i), key))
			return gantry_json_value_at(obj, i);
	return NULL;
}

static char *secret_member(struct gantry_aws *aws, const char *id,
			   const char *text, const char *key)
{
	struct gantry_json *doc = gantry_json_parse(text, strlen(text),
						    NULL, 0), *v;
	char *value = NULL;

	if (!doc || gantry_json_type(doc) != GANTRY_JSON_OBJECT) {
		aws_i_fail(aws, GANTRY_EFAIL, "",
			   "secret '%s' is not a JSON object, so it has no "
			   "key '%s'", id, key);
	} else if (!(v = member(doc, key))) {
		/* Absent, or null (json-c's null is no value at all). */
		aws_i_fail(aws, GANTRY_EFAIL, "", "secret '%s' has no key '%s'",
			   id, key);
	} else if (gantry_json_type(v) == GANTRY_JSON_STRING) {
		value = gantry_xstrdup(gantry_json_string(v, "", ""));
	} else {
		value = gantry_xstrdup(gantry_json_text(v, 0));
	}
	gantry_json_free(doc);
	if (value)
		gantry_secret_add(value);
	return value;
}

char *gantry_aws_secret(struct gantry_aws *aws, const char *id,
			const char *json_key)
{
	struct gantry_json *req, *out;
	const char *s;
	char *value = NULL;

	if (!aws || !id)
		return NULL;
	req = gantry_json_new_object();
	gantry_json_set_string(req, "SecretId", id);
	if (!gantry_aws_json(aws, "secretsmanager", "GetSecretValue",
			     gantry_json_text(req, 0), &out)) {
		s = gantry_json_string(out, "SecretString", NULL);
		if (!s) {
			aws_i_fail(aws, GANTRY_EFAIL, "",
				   "secret '%s' has no string value (binary "
				   "secrets are not supported)", id);
		} else {
			gantry_secret_add(s);
			value = json_key ? secret_member(aws, id, s, json_key) :
				gantry_xstrdup(s);
		}
		gantry_json_free(out);
	}
	gantry_json_free(req);
	return value;
}
