/*
 * aws.c - the AWS client: settings, endpoints, and SigV4-signed requests
 * over libgantry's one transport (transport.h), whose retry policy they
 * follow, with AWS's throttling codes counted as retryable (the
 * protocols are in aws_call.c, errors in aws_error.c).
 *
 * libcurl signs (CURLOPT_AWS_SIGV4, set by the transport).  What must
 * stay true for the signature to hold (docs/aws.md): the provider
 * string is always the full "aws:amz:<region>:<service>"; Content-Type is set by us, never
 * added by curl after signing; the session token is a header we add
 * (curl signs every header we give it, even a blanked "Expect:"); bodies
 * are in memory; S3 gets x-amz-content-sha256.
 *
 * Nothing secret is logged: debug lines name the service, operation,
 * attempt, status and latency only.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <gantry/digest.h>
#include "aws_internal.h"
#include "transport.h"

#define AWS_DEFAULT_ATTEMPTS 5
#define AWS_MAX_ATTEMPTS_LIMIT 100
#define AWS_DEFAULT_RETRY_SECONDS 60.0
#define AWS_DEFAULT_TIMEOUT_MS 30000L

static const struct aws_service services[] = {
	{ "ecs", "ecs", "AmazonEC2ContainerServiceV20141113", "1.1", NULL,
	  "ECS" },
	{ "ecr", "api.ecr", "AmazonEC2ContainerRegistry_V20150921", "1.1",
	  NULL, "ECR" },
	{ "logs", "logs", "Logs_20140328", "1.1", NULL, "CLOUDWATCH_LOGS" },
	{ "secretsmanager", "secretsmanager", "secretsmanager", "1.1", NULL,
	  "SECRETS_MANAGER" },
	{ "dynamodb", "dynamodb", "DynamoDB_20120810", "1.0", NULL,
	  "DYNAMODB" },
	{ "sts", "sts", NULL, NULL, "2011-06-15", "STS" },
	{ "monitoring", "monitoring", NULL, NULL, "2010-08-01",
	  "CLOUDWATCH" },
	{ "s3", "s3", NULL, NULL, NULL, "S3" },
};

const struct aws_service *aws_i_service(const char *name)
{
	size_t i;

	for (i = 0; name && i < GANTRY_ARRAY_SIZE(services); i++)
		if (!strcmp(services[i].name, name))
			return &services[i];
	return NULL;
}

static const char *setting(struct gantry_ctx *ctx, const char *key)
{
	const char *v = gantry_ctx_get(ctx, key);

	return v && *v ? v : NULL;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static char *endpoint_dup(const char *url)
{
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	return gantry_xstrndup(url, n);
}

/*
 * The context before the environment, the specific before the general:
 * aws.endpoint_url.<svc>, aws.endpoint_url, AWS_ENDPOINT_URL_<SVC> (the
 * AWS SDKs' name, e.g. _SECRETS_MANAGER, or the plain upper-case one),
 * AWS_ENDPOINT_URL, then the region's real endpoint.
 */
static char *resolve_endpoint(struct gantry_aws *aws,
			      const struct aws_service *s)
{
	char key[64], name[64];
	const char *v;
	size_t i;

	snprintf(key, sizeof(key), "aws.endpoint_url.%s", s->name);
	if ((v = setting(aws->ctx, key)) || (v = setting(aws->ctx,
							 "aws.endpoint_url")))
		return endpoint_dup(v);
	snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_%s", s->env);
	if ((v = env(name)))
		return endpoint_dup(v);
	snprintf(name, sizeof(name), "AWS_ENDPOINT_URL_");
	for (i = 0; s->name[i] && i + 18 < sizeof(name); i++)
		name[17 + i] = (char)toupper((unsigned char)s->name[i]);
	name[17 + i] = '\0';
	if ((v = env(name)) || (v = env("AWS_ENDPOINT_URL")))
		return endpoint_dup(v);
	if (!*aws->region)
		return NULL;
	return gantry_xasprintf("https://%s.%s.amazonaws.com", s->host,
				  aws->region);
}

static void bad_setting(struct gantry_aws *aws, const char *key,
			const char *value, const char *want)
{
	if (aws->config_error)
		return;
	aws->config_error = gantry_xasprintf("%s '%s' is not %s", key,
					       value, want);
}

static void read_settings(struct gantry_aws *aws)
{
	struct gantry_ctx *ctx = aws->ctx;
	const char *v;
	char *end, *region = NULL;
	size_t i;

	if (!(v = setting(ctx, "aws.region")) && !(v = env("AWS_REGION")) &&
	    !(v = env("AWS_DEFAULT_REGION")))
		v = region = aws_i_profile_region();
	aws->region = gantry_xstrdup(v ? v : "");
	free(region);
	if (!*aws->region)
		aws->config_error = gantry_xstrdup(
			"no AWS region: set aws.region in the profile or "
			"AWS_REGION");

	if ((v = setting(ctx, "aws.account_id")))
		aws->account_id = gantry_xstrdup(v);
	if ((v = setting(ctx, "aws.role_arn")))
		aws->role_arn = gantry_xstrdup(v);
	if ((v = setting(ctx, "aws.external_id")))
		aws->external_id = gantry_xstrdup(v);
	if ((v = setting(ctx, "aws.session_name")))
		aws->session_name = gantry_xstrdup(v);
	else
		aws->session_name = (v = setting(ctx, "deploy.id")) ?
			gantry_xasprintf("gantry-%s", v) :
			gantry_xasprintf("gantry-%ld", (long)getpid());
	/* STS takes [\w+=,.@-]{2,64}: deploy ids may hold other bytes. */
	for (i = 0; aws->session_name[i]; i++) {
		char c = aws->session_name[i];

		if (!isalnum((unsigned char)c) && !strchr("_+=,.@-", c))
			aws->session_name[i] = '-';
	}
	if (i > 64)
		aws->session_name[64] = '\0';

	aws->max_attempts = AWS_DEFAULT_ATTEMPTS;
	if ((v = setting(ctx, "aws.max_attempts")) ||
	    (v = env("AWS_MAX_ATTEMPTS"))) {
		long n = strtol(v, &end, 10);

		if (*end || n < 1 || n > AWS_MAX_ATTEMPTS_LIMIT)
			bad_setting(aws, "aws.max_attempts", v,
				    "a number from 1 to 100");
		else
			aws->max_attempts = (unsigned)n;
	}
	aws->max_retry_seconds = AWS_DEFAULT_RETRY_SECONDS;
	if ((v = setting(ctx, "aws.max_retry_seconds"))) {
		double d = strtod(v, &end);

		if (*end || d < 0)
			bad_setting(aws, "aws.max_retry_seconds", v,
				    "a number of seconds");
		else
			aws->max_retry_seconds = d;
	}
	aws->timeout_ms = AWS_DEFAULT_TIMEOUT_MS;
	if ((v = setting(ctx, "aws.timeout_ms"))) {
		long n = strtol(v, &end, 10);

		if (*end || n < 1)
			bad_setting(aws, "aws.timeout_ms", v,
				    "a number of milliseconds");
		else
			aws->timeout_ms = n;
	}

	aws->endpoints = gantry_xcalloc(GANTRY_ARRAY_SIZE(services),
					  sizeof(*aws->endpoints));
	for (i = 0; i < GANTRY_ARRAY_SIZE(services); i++)
		aws->endpoints[i] = resolve_endpoint(aws, &services[i]);
}

struct gantry_aws *gantry_aws_new(struct gantry_ctx *ctx)
{
	struct gantry_aws *aws = gantry_xcalloc(1, sizeof(*aws));

	aws->ctx = ctx;
	read_settings(aws);
	aws_i_begin(aws, "", "");
	return aws;
}


void gantry_aws_free(struct gantry_aws *aws)
{
	size_t i;

	if (!aws)
		return;
	for (i = 0; aws->endpoints && i < GANTRY_ARRAY_SIZE(services); i++)
		free(aws->endpoints[i]);
	free(aws->endpoints);
	free(aws->region);
	free(aws->account_id);
	free(aws->role_arn);
	free(aws->external_id);
	free(aws->session_name);
	free(aws->config_error);
	aws_i_creds_clear(&aws->base);
	aws_i_creds_clear(&aws->creds);
	free(aws->identity_account);
	free(aws->identity_arn);
	aws_i_error_clear(aws);
	free(aws);
}

const char *gantry_aws_region(const struct gantry_aws *aws)
{
	return aws ? aws->region : "";
}

const char *gantry_aws_account(const struct gantry_aws *aws)
{
	if (!aws)
		return "";
	if (aws->account_id)
		return aws->account_id;
	return aws->identity_account ? aws->identity_account : "";
}

const char *gantry_aws_endpoint(struct gantry_aws *aws, const char *service)
{
	const struct aws_service *s = aws_i_service(service);

	if (!aws || !s || !aws->endpoints[s - services])
		return "";
	return aws->endpoints[s - services];
}


/*
 * One request, over the transport (transport.h), whose policy decides
 * the retries; what is AWS's here is the signing, the error reading and
 * its throttling codes, and the messages.
 */

static int has_header(const char *const *extra, const char *name)
{
	size_t n = strlen(name);

	for (; extra && *extra; extra++)
		if (!strncasecmp(*extra, name, n) && (*extra)[n] == ':')
			return 1;
	return 0;
}

static void request_headers(struct aws_request *req, struct tx *tx)
{
	const char *const *x;

	if (req->content_type && !has_header(req->extra, "Content-Type"))
		tx_header_add(tx, "Content-Type", req->content_type);
	if (req->target)
		tx_header_add(tx, "X-Amz-Target", req->target);
	if (req->creds && req->creds->token)
		tx_header_add(tx, "X-Amz-Security-Token", req->creds->token);
	if (req->s3) {
		char hex[GANTRY_SHA256_HEX];

		gantry_sha256_hex(req->body ? req->body : "", req->len, hex);
		tx_header_add(tx, "x-amz-content-sha256", hex);
	}
	for (x = req->extra; x && *x; x++)
		tx_header_line(tx, *x);
}

static void response_clear(struct aws_request *req)
{
	gantry_buf_reset(&req->resp);
	req->status = 0;
	free(req->request_id);
	free(req->error_type);
	req->request_id = NULL;
	req->error_type = NULL;
}

void aws_i_request_release(struct aws_request *req)
{
	response_clear(req);
	gantry_buf_release(&req->resp);
	free(req->target);
	req->target = NULL;
}

static char *dup_header(const struct tx *tx, const char *a, const char *b)
{
	const char *v = tx_response_header(tx, a);

	if (!v && b)
		v = tx_response_header(tx, b);
	return v ? gantry_xstrdup(v) : NULL;
}

/* The attempt's answer into req (its body moved, not copied). */
static void take_answer(struct aws_request *req, struct tx *tx)
{
	struct gantry_buf swap = req->resp;

	response_clear(req);
	req->resp = tx->resp;
	tx->resp = swap;
	req->status = tx->status;
	req->request_id = dup_header(tx, "x-amzn-RequestId",
				     "x-amz-request-id");
	req->error_type = dup_header(tx, "x-amzn-ErrorType", NULL);
}

/* What the request sends: a body for POST and PUT (an empty one too),
   and for any method given one; GET and HEAD never. */
static void set_body(const struct aws_request *req, struct tx *tx)
{
	if (!strcmp(req->method, "HEAD") || !strcmp(req->method, "GET"))
		return;
	if (!req->body && strcmp(req->method, "POST") &&
	    strcmp(req->method, "PUT"))
		return;
	tx->has_body = 1;
	tx->body = req->body ? req->body : "";
	tx->len = req->body ? req->len : 0;
}
static int interrupted(struct gantry_aws *aws)
{
	return aws_i_fail(aws, GANTRY_EINTERRUPTED, "",
			  "interrupted before an answer came");
}

/* The entry's timeout ran out (or left too little for an attempt):
   the stage fails by itself, before the core has to kill it. */
static int out_of_time(struct gantry_aws *aws, const char *base)
{
	return aws_i_fail(aws, GANTRY_ETIMEOUT, "",
			  "no answer from %s within the entry's %u s timeout "
			  "(raise its `timeout`, or check the endpoint)",
			  base, gantry_ctx_timeout(aws->ctx));
}

int aws_i_perform(struct gantry_aws *aws, struct aws_request *req)
{
	const char *base = aws->endpoints[req->svc - services];
	char *url, *provider = NULL;
	struct tx tx;
	int rc = GANTRY_EFAIL;

	if (!base)
		return aws_i_fail(aws, GANTRY_ECONFIG, "",
				  "no endpoint for '%s': set aws.region",
				  req->svc->name);
	url = gantry_xasprintf("%s%s", base, req->path);
	tx_init(&tx);
	tx.method = req->method;
	tx.url = url;
	request_headers(req, &tx);
	set_body(req, &tx);
	if (req->creds) {
		provider = gantry_xasprintf("aws:amz:%s:%s", aws->region,
					    req->svc->name);
		tx.sigv4 = provider;
		tx.user = req->creds->akid;
		tx.password = req->creds->secret;
	}
	tx.timeout_ms = aws->timeout_ms;
	/* The AWS APIs are made to be retried, POSTs included, as every
	   AWS SDK does. */
	tx.retry_unsafe = 1;
	tx.attempts = aws->max_attempts;
	tx.max_retry_s = aws->max_retry_seconds;
	tx.ctx = aws->ctx;
	for (aws->attempts = 1;; aws->attempts++) {
		double t0 = gantry_now();
		long limit = tx_attempt_timeout(&tx), ms;

		if (gantry_i_interrupted) {
			rc = interrupted(aws);
			break;
		}
		if (limit < 0) {
			rc = out_of_time(aws, base);
			break;
		}
		tx.throttled = 0;
		tx_attempt(&tx);
		take_answer(req, &tx);
		gantry_debug(aws->ctx, "aws: %s %s attempt %u: status %ld "
			     "in %.0f ms", req->svc->name, req->operation,
			     aws->attempts, req->status,
			     (gantry_now() - t0) * 1000);
		if (tx.fail == TX_INTERRUPTED) {
			rc = interrupted(aws);
			break;
		}
		if (tx.fail == TX_TIMEDOUT && limit < aws->timeout_ms) {
			aws->err_status = 0;
			rc = out_of_time(aws, base);
			break;
		}
		if (tx.fail != TX_ANSWERED) {
			aws->err_status = 0;
			rc = aws_i_fail(aws, GANTRY_EFAIL, "",
					"cannot reach %s: %s", base,
					tx.error ? tx.error : "no answer");
		} else if (req->status >= 200 && req->status < 300) {
			aws->err_status = req->status;
			rc = GANTRY_OK;
			break;
		} else {
			aws_i_parse_error(aws, req);
			rc = GANTRY_EFAIL;
			tx.throttled = aws_i_throttling(aws->err_code);
		}
		ms = tx_retry_ms(&tx);
		if (ms < 0)
			break;
		gantry_debug(aws->ctx, "aws: %s %s: retrying in %ld ms",
			     req->svc->name, req->operation, ms);
		if (tx_nap(ms) < 0) {
			rc = interrupted(aws);
			break;
		}
	}
	tx_release(&tx);
	free(provider);
	free(url);
	return rc;
}
