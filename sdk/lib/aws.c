/*
 * aws.c - the AWS client: settings, endpoints, SigV4-signed requests with
 * retries, and error reporting (the protocols are in aws_call.c).
 *
 * libcurl signs (CURLOPT_AWS_SIGV4).  What must stay true for the
 * signature to hold (docs/aws.md): the provider string is always the
 * full "aws:amz:<region>:<service>"; Content-Type is set by us, never
 * added by curl after signing; the session token is a header we add
 * (curl signs every header we give it, even a blanked "Expect:"); bodies
 * are in memory; S3 gets x-amz-content-sha256.
 *
 * Nothing secret is logged: debug lines name the service, operation,
 * attempt, status and latency only.
 */
#include "config.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "aws_internal.h"

#define AWS_DEFAULT_ATTEMPTS 5
#define AWS_MAX_ATTEMPTS_LIMIT 100
#define AWS_DEFAULT_RETRY_SECONDS 60.0
#define AWS_DEFAULT_TIMEOUT_MS 30000L
#define AWS_CONNECT_TIMEOUT_MS 10000L
/* The shortest attempt: what a call made just before the entry's
   timeout still gets, and the least grace worth an attempt after it. */
#define AWS_MIN_ATTEMPT_MS 200L
#define AWS_BACKOFF_BASE_MS 100L
#define AWS_BACKOFF_CAP_MS 20000L

#define CREDENTIALS_HINT "; check the credentials (aws.role_arn in the " \
	"profile, AWS_PROFILE or AWS_ACCESS_KEY_ID)"

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

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int aws_i_curl(struct gantry_aws *aws)
{
	pthread_once(&curl_once, curl_init);
	if (!aws->curl && (curl_init_rc != CURLE_OK ||
			   !(aws->curl = curl_easy_init())))
		return aws_i_fail(aws, GANTRY_EFAIL, "",
				  "libcurl failed to initialise");
	return 0;
}

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
	aws->seed = (unsigned)getpid() ^ (unsigned)(gantry_now() * 1e6);
	read_settings(aws);
	aws_i_begin(aws, "", "");
	return aws;
}

static void error_clear(struct gantry_aws *aws)
{
	free(aws->err_service);
	free(aws->err_operation);
	free(aws->err_code);
	free(aws->err_message);
	free(aws->err_request_id);
	free(aws->err_line);
}

void gantry_aws_free(struct gantry_aws *aws)
{
	size_t i;

	if (!aws)
		return;
	if (aws->curl)
		curl_easy_cleanup(aws->curl);
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
	error_clear(aws);
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

long gantry_aws_error_status(const struct gantry_aws *aws)
{
	return aws ? aws->err_status : 0;
}

const char *gantry_aws_error_code(const struct gantry_aws *aws)
{
	return aws ? aws->err_code : "";
}

const char *gantry_aws_error_message(const struct gantry_aws *aws)
{
	return aws ? aws->err_message : "";
}

const char *gantry_aws_request_id(const struct gantry_aws *aws)
{
	return aws ? aws->err_request_id : "";
}

unsigned gantry_aws_attempts(const struct gantry_aws *aws)
{
	return aws ? aws->attempts : 0;
}

const char *gantry_aws_error_line(const struct gantry_aws *aws)
{
	return aws ? aws->err_line : "";
}

void aws_i_begin(struct gantry_aws *aws, const char *service,
		 const char *operation)
{
	error_clear(aws);
	aws->err_service = gantry_xstrdup(service ? service : "");
	aws->err_operation = gantry_xstrdup(operation ? operation : "");
	aws->err_status = 0;
	aws->err_code = gantry_xstrdup("");
	aws->err_message = gantry_xstrdup("");
	aws->err_request_id = gantry_xstrdup("");
	aws->err_line = gantry_xstrdup("");
	aws->attempts = 0;
}

static int credentials_code(const char *code)
{
	return !strncmp(code, "AccessDenied", 12) ||
		!strncmp(code, "UnrecognizedClient", 18) ||
		!strcmp(code, "InvalidClientTokenId") ||
		!strncmp(code, "ExpiredToken", 12) ||
		!strncmp(code, "InvalidSignature", 16) ||
		!strcmp(code, "SignatureDoesNotMatch");
}

static void make_line(struct gantry_aws *aws)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	const char *account = gantry_aws_account(aws);

	gantry_buf_addf(&b, "%s %s", aws->err_service, aws->err_operation);
	if (*account && *aws->region)
		gantry_buf_addf(&b, " in %s/%s", account, aws->region);
	else if (*aws->region)
		gantry_buf_addf(&b, " in %s", aws->region);
	gantry_buf_adds(&b, ": ");
	if (*aws->err_code)
		gantry_buf_addf(&b, "%s%s", aws->err_code,
				  *aws->err_message ? ": " : "");
	if (*aws->err_message)
		gantry_buf_adds(&b, aws->err_message);
	else if (!*aws->err_code)
		gantry_buf_addf(&b, "HTTP status %ld", aws->err_status);
	if (aws->attempts > 1)
		gantry_buf_addf(&b, " (after %u attempts)", aws->attempts);
	if (credentials_code(aws->err_code))
		gantry_buf_adds(&b, CREDENTIALS_HINT);
	gantry_i_redact_buf(&b);
	free(aws->err_line);
	aws->err_line = gantry_buf_detach(&b);
}

static void set_error(struct gantry_aws *aws, const char *code,
		      const char *message, const char *request_id)
{
	/* The arguments may be the fields themselves: copy, then free. */
	char *c = gantry_xstrdup(code ? code : "");
	char *m = gantry_xstrdup(message ? message : "");
	char *r = gantry_xstrdup(request_id ? request_id : "");

	free(aws->err_code);
	free(aws->err_message);
	free(aws->err_request_id);
	aws->err_code = c;
	aws->err_message = m;
	aws->err_request_id = r;
	make_line(aws);
}

int aws_i_fail(struct gantry_aws *aws, int code, const char *err_code,
	       const char *fmt, ...)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	gantry_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	set_error(aws, err_code, b.buf, aws->err_request_id);
	gantry_buf_release(&b);
	return code;
}

/*
 * One attempt.
 */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct aws_request *req = arg;

	gantry_buf_add(&req->resp, data, size * n);
	return size * n;
}

static void take_header(char **slot, const char *v, size_t n)
{
	free(*slot);
	*slot = gantry_xstrndup(v, n);
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct aws_request *req = arg;
	size_t len = size * n, nl;
	const char *colon, *v, *end = data + len;

	colon = memchr(data, ':', len);
	if (!colon)
		return len;
	for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	nl = (size_t)(colon - data);
	if ((nl == 16 && !strncasecmp(data, "x-amzn-RequestId", nl)) ||
	    (nl == 16 && !strncasecmp(data, "x-amz-request-id", nl)))
		take_header(&req->request_id, v, (size_t)(end - v));
	else if (nl == 16 && !strncasecmp(data, "x-amzn-ErrorType", nl))
		take_header(&req->error_type, v, (size_t)(end - v));
	return len;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
		       curl_off_t ultotal, curl_off_t ulnow)
{
	return gantry_i_interrupted != 0;
}

static struct curl_slist *header(struct curl_slist *l, const char *name,
				 const char *value)
{
	char *line = gantry_xasprintf("%s: %s", name, value);
	struct curl_slist *n = curl_slist_append(l, line);

	free(line);
	if (!n) {
		fputs("gantry: out of memory\n", stderr);
		abort();
	}
	return n;
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL))
		mdlen = 0;
	for (i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[2 * i] = '\0';
}

static int has_header(const char *const *extra, const char *name)
{
	size_t n = strlen(name);

	for (; extra && *extra; extra++)
		if (!strncasecmp(*extra, name, n) && (*extra)[n] == ':')
			return 1;
	return 0;
}

static struct curl_slist *request_headers(struct aws_request *req)
{
	struct curl_slist *h;
	const char *const *x;

	/* No "Expect:" here to disable 100-continue: curl 7.88 would sign
	   the blanked header yet not send it.  A short expect timeout in
	   attempt() does the job. */
	h = NULL;
	if (req->content_type && !has_header(req->extra, "Content-Type"))
		h = header(h, "Content-Type", req->content_type);
	if (req->target)
		h = header(h, "X-Amz-Target", req->target);
	if (req->creds && req->creds->token)
		h = header(h, "X-Amz-Security-Token", req->creds->token);
	if (req->s3) {
		char hex[65];

		sha256_hex(req->body ? req->body : "", req->len, hex);
		h = header(h, "x-amz-content-sha256", hex);
	}
	for (x = req->extra; x && *x; x++) {
		struct curl_slist *n = curl_slist_append(h, *x);

		if (n)
			h = n;
	}
	return h;
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

static CURLcode attempt(struct gantry_aws *aws, struct aws_request *req,
			const char *url, struct curl_slist *headers,
			char *errbuf, long timeout_ms)
{
	CURL *h = aws->curl;
	CURLcode rc;

	response_clear(req);
	errbuf[0] = '\0';
	/* reset keeps the connection cache: the point of one handle. */
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 timeout_ms < AWS_CONNECT_TIMEOUT_MS ?
			 timeout_ms : AWS_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "gantry/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, req);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	/* Large S3 bodies would otherwise wait a second for "100 Continue". */
	curl_easy_setopt(h, CURLOPT_EXPECT_100_TIMEOUT_MS, 1L);
	if (req->creds) {
		char *provider = gantry_xasprintf("aws:amz:%s:%s",
						    aws->region,
						    req->svc->name);

		curl_easy_setopt(h, CURLOPT_AWS_SIGV4, provider);
		curl_easy_setopt(h, CURLOPT_USERNAME, req->creds->akid);
		curl_easy_setopt(h, CURLOPT_PASSWORD, req->creds->secret);
		free(provider);	/* curl copies string options */
	}
	if (!strcmp(req->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(req->method, "GET") ||
		   (!req->body && strcmp(req->method, "POST") &&
		    strcmp(req->method, "PUT"))) {
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
		if (strcmp(req->method, "GET"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST,
					 req->method);
	} else {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS,
				 req->body ? req->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(req->body ? req->len : 0));
		if (strcmp(req->method, "POST"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST,
					 req->method);
	}
	rc = curl_easy_perform(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &req->status);
	return rc;
}

/* Failures a later attempt may not see: no connection, a dropped one, a
   timeout. */
static int transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

static int throttling(const char *code)
{
	return !strncmp(code, "Throttling", 10) ||
		!strcmp(code, "TooManyRequestsException") ||
		!strcmp(code, "RequestLimitExceeded") ||
		!strcmp(code, "ProvisionedThroughputExceededException") ||
		!strncmp(code, "RequestThrottled", 16) ||
		!strcmp(code, "SlowDown");
}

/* "aws.protocol#ThrottlingException:http://..." -> ThrottlingException */
static char *bare_code(const char *type)
{
	const char *hash = strrchr(type, '#');
	size_t n;

	if (hash)
		type = hash + 1;
	n = strcspn(type, ":");
	return gantry_xstrndup(type, n);
}

static char *json_member(const struct gantry_json *j, const char *a,
			 const char *b)
{
	const char *v = gantry_json_string(j, a, NULL);

	if (!v && b)
		v = gantry_json_string(j, b, NULL);
	return v ? gantry_xstrdup(v) : NULL;
}

/* A short, printable excerpt of a body that is not what we expected. */
static char *excerpt(const struct gantry_buf *b)
{
	size_t i, n = b->len < 120 ? b->len : 120;
	char *s = gantry_xstrndup(b->buf, n);

	for (i = 0; i < n; i++)
		if (!isprint((unsigned char)s[i]))
			s[i] = ' ';
	return s;
}

/* Reads the error out of an unsuccessful answer into aws. */
static void parse_error(struct gantry_aws *aws, struct aws_request *req)
{
	struct gantry_json *j = NULL;
	char *code = NULL, *msg = NULL, *rid = NULL;

	if (req->error_type && *req->error_type)
		code = bare_code(req->error_type);
	if (req->resp.len && req->xml_errors)
		j = aws_i_xml_to_json(req->resp.buf, req->resp.len, NULL, 0);
	else if (req->resp.len)
		j = gantry_json_parse(req->resp.buf, req->resp.len, NULL, 0);
	if (j && req->xml_errors) {
		if (!code)
			code = json_member(j, "Error.Code", "Code");
		msg = json_member(j, "Error.Message", "Message");
		rid = json_member(j, "RequestId", "Error.RequestId");
	} else if (j) {
		if (!code && (code = json_member(j, "__type", "code"))) {
			char *bare = bare_code(code);

			free(code);
			code = bare;
		}
		msg = json_member(j, "message", "Message");
	}
	if (!code && !msg && req->resp.len) {
		char *x = excerpt(&req->resp);

		msg = gantry_xasprintf("HTTP status %ld: %s", req->status,
					 x);
		free(x);
	}
	aws->err_status = req->status;
	set_error(aws, code, msg, req->request_id ? req->request_id : rid);
	gantry_json_free(j);
	free(code);
	free(msg);
	free(rid);
}

/* Sleeps ms in slices so an interrupt is noticed; -1 if one was. */
static int nap(long ms)
{
	while (ms > 0 && !gantry_i_interrupted) {
		long slice = ms < 100 ? ms : 100;
		struct timespec ts = { 0, slice * 1000000L };

		nanosleep(&ts, NULL);
		ms -= slice;
	}
	return gantry_i_interrupted ? -1 : 0;
}

/* Full jitter: random(0, min(cap, base * 2^n)). */
static long backoff_ms(struct gantry_aws *aws, unsigned n)
{
	long ceiling = AWS_BACKOFF_BASE_MS;

	while (n-- > 0 && ceiling < AWS_BACKOFF_CAP_MS)
		ceiling *= 2;
	if (ceiling > AWS_BACKOFF_CAP_MS)
		ceiling = AWS_BACKOFF_CAP_MS;
	return (long)(rand_r(&aws->seed) % (unsigned)(ceiling + 1));
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
	char errbuf[CURL_ERROR_SIZE];
	const char *base = aws->endpoints[req->svc - services];
	struct curl_slist *headers;
	double start = gantry_now();
	char *url;
	int rc = GANTRY_EFAIL;

	if (!base)
		return aws_i_fail(aws, GANTRY_ECONFIG, "",
				  "no endpoint for '%s': set aws.region",
				  req->svc->name);
	if ((rc = aws_i_curl(aws)))
		return rc;
	url = gantry_xasprintf("%s%s", base, req->path);
	headers = request_headers(req);
	for (aws->attempts = 1;; aws->attempts++) {
		double t0 = gantry_now();
		long budget = gantry_i_ctx_budget_ms(aws->ctx,
						     AWS_MIN_ATTEMPT_MS);
		long limit = aws->timeout_ms;
		CURLcode cc;
		int retry;
		long ms;

		if (gantry_i_interrupted) {
			rc = interrupted(aws);
			break;
		}
		if (budget == 0) {
			rc = out_of_time(aws, base);
			break;
		}
		if (budget > 0 && budget < limit)
			limit = budget;
		cc = attempt(aws, req, url, headers, errbuf, limit);
		gantry_debug(aws->ctx, "aws: %s %s attempt %u: status %ld "
			     "in %.0f ms", req->svc->name, req->operation,
			     aws->attempts, req->status,
			     (gantry_now() - t0) * 1000);
		if (cc == CURLE_ABORTED_BY_CALLBACK && gantry_i_interrupted) {
			rc = interrupted(aws);
			break;
		}
		if (cc == CURLE_OPERATION_TIMEDOUT && limit < aws->timeout_ms) {
			aws->err_status = 0;
			rc = out_of_time(aws, base);
			break;
		}
		if (cc != CURLE_OK) {
			aws->err_status = 0;
			rc = aws_i_fail(aws, GANTRY_EFAIL, "",
					"cannot reach %s: %s", base,
					errbuf[0] ? errbuf :
					curl_easy_strerror(cc));
			retry = transient(cc);
		} else if (req->status >= 200 && req->status < 300) {
			aws->err_status = req->status;
			rc = GANTRY_OK;
			break;
		} else {
			parse_error(aws, req);
			rc = GANTRY_EFAIL;
			retry = req->status >= 500 || req->status == 429 ||
				throttling(aws->err_code);
		}
		if (!retry || aws->attempts >= aws->max_attempts)
			break;
		ms = backoff_ms(aws, aws->attempts);
		if (gantry_now() - start + ms / 1000.0 >
		    aws->max_retry_seconds)
			break;
		/* No retry the entry's timeout would cut short: the last
		   error says more than "no time left". */
		budget = gantry_i_ctx_budget_ms(aws->ctx, 0);
		if (budget >= 0 && ms + AWS_MIN_ATTEMPT_MS > budget)
			break;
		gantry_debug(aws->ctx, "aws: %s %s: retrying in %ld ms",
			     req->svc->name, req->operation, ms);
		if (nap(ms) < 0) {
			rc = interrupted(aws);
			break;
		}
	}
	curl_slist_free_all(headers);
	free(url);
	return rc;
}
