/*
 * check_aws.c - the AWS client against the sandbox's simulator (started
 * by aws-test-wrapper.sh, which exports its env.sh): the credential
 * chain, the account check, retries, endpoints, errors, secrets, the
 * Query protocol; and, against a one-shot server in a thread, a garbage
 * answer and the shape of an S3 request.
 */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "internal.h"
#include <gantry/aws.h>

#define BASE_ACCOUNT "111122223333"

/* Every variable a test may change; restored after each test, since
   under valgrind (CK_FORK=no) the tests share one process. */
static const char *const vars[] = {
	"HOME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
	"AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_ENDPOINT_URL",
	"AWS_ENDPOINT_URL_ECS", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_S3", "AWS_MAX_ATTEMPTS",
	"AWS_REGION", "AWS_DEFAULT_REGION",
};
static char *saved[GANTRY_ARRAY_SIZE(vars)];
static char tmpdir[64];

static const char *need(const char *name)
{
	const char *v = getenv(name);

	ck_assert_msg(v && *v, "%s is not set: run through "
		      "aws-test-wrapper.sh", name);
	return v;
}

/*
 * The control API, through libgantry's own HTTP client.
 */
static struct gantry_json *sim(const char *path, const char *body)
{
	char *url = gantry_xasprintf("%s%s", need("AWSSIM_URL"), path);
	struct gantry_http *req = gantry_http_new("POST", url);
	struct gantry_json *doc;
	const char *resp;
	size_t len;

	gantry_http_header(req, "Content-Type", "application/json");
	gantry_http_body(req, body, strlen(body));
	gantry_http_attempts(req, 1);
	ck_assert_int_eq(gantry_http_perform(req, NULL), 0);
	resp = gantry_http_response(req, &len);
	ck_assert_msg(gantry_http_status(req) == 200, "%s: %ld %s", path,
		      gantry_http_status(req), resp);
	doc = gantry_json_parse(resp, len, NULL, 0);
	ck_assert_ptr_nonnull(doc);
	gantry_http_free(req);
	free(url);
	return doc;
}

static void sim_do(const char *path, const char *body)
{
	gantry_json_free(sim(path, body));
}

static int sim_count_once(const char *operation)
{
	struct gantry_json *doc = sim("/_sim/calls", "{}");
	struct gantry_json *calls = gantry_json_get(doc, "calls");
	size_t i;
	int n = 0;

	for (i = 0; i < gantry_json_length(calls); i++)
		if (!strcmp(gantry_json_string(gantry_json_at(calls, i),
					       "operation", ""), operation))
			n++;
	gantry_json_free(doc);
	return n;
}

/* How many AWS calls of operation the simulator saw.  It records a call
   just after answering it, so the count is read until it holds still. */
static int sim_count(const char *operation)
{
	int n = sim_count_once(operation), again, i;
	struct timespec ts = { 0, 50 * 1000000L };

	for (i = 0; i < 20; i++) {
		nanosleep(&ts, NULL);
		again = sim_count_once(operation);
		if (again == n)
			break;
		n = again;
	}
	return n;
}

static void setup(void)
{
	size_t i;

	for (i = 0; i < GANTRY_ARRAY_SIZE(vars); i++) {
		const char *v = getenv(vars[i]);

		saved[i] = v ? gantry_xstrdup(v) : NULL;
	}
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/check_aws.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	/* No ~/.aws of whoever runs the tests. */
	setenv("HOME", tmpdir, 1);
	need("AWSSIM_URL");
	sim_do("/_sim/reset", "{}");
}

static void teardown(void)
{
	char *cmd[] = { "rm", "-rf", tmpdir, NULL };
	size_t i;
	pid_t pid;

	for (i = 0; i < GANTRY_ARRAY_SIZE(vars); i++) {
		if (saved[i])
			setenv(vars[i], saved[i], 1);
		else
			unsetenv(vars[i]);
		free(saved[i]);
		saved[i] = NULL;
	}
	pid = fork();
	if (pid == 0) {
		execvp(cmd[0], cmd);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

static void write_file(const char *name, const char *text, char *path,
		       size_t size)
{
	FILE *f;

	snprintf(path, size, "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static struct gantry_ctx *ctx_with(const char *key, const char *value, ...)
{
	struct gantry_ctx *ctx = gantry_i_ctx_new("aws");
	va_list ap;

	va_start(ap, value);
	while (key) {
		gantry_i_kv_set(&ctx->values, key, value, 0);
		key = va_arg(ap, const char *);
		if (key)
			value = va_arg(ap, const char *);
	}
	va_end(ap);
	return ctx;
}

static void no_env_keys(void)
{
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
}

/* The account GetCallerIdentity reports, or fails the test. */
static char *caller_account(struct gantry_aws *aws, char **arn)
{
	struct gantry_json *out;
	char *account;
	int rc = gantry_aws_query(aws, "sts", "GetCallerIdentity", &out,
				  NULL);

	ck_assert_msg(rc == 0, "GetCallerIdentity: %s",
		      gantry_aws_error_line(aws));
	account = gantry_xstrdup(gantry_json_string(
		out, "GetCallerIdentityResult.Account", ""));
	if (arn)
		*arn = gantry_xstrdup(gantry_json_string(
			out, "GetCallerIdentityResult.Arn", ""));
	gantry_json_free(out);
	return account;
}

static void assert_account(struct gantry_ctx *ctx, const char *want)
{
	struct gantry_aws *aws = gantry_aws_new(ctx);
	char *account = caller_account(aws, NULL);

	ck_assert_str_eq(account, want);
	free(account);
	gantry_aws_free(aws);
}

/* A port nothing listens on: bound, read back, closed. */
static int dead_port(void)
{
	struct sockaddr_in a = { 0 };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	return ntohs(a.sin_port);
}

/*
 * A one-shot HTTP server in a thread: keeps the request it got, sends
 * its answer, closes; gives up after 5 s without a client.
 */
struct oneshot {
	int fd;
	int port;
	const char *answer;
	struct gantry_buf req;
	pthread_t thread;
};

static int readable(int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };

	return poll(&p, 1, ms) > 0;
}

static void *oneshot_run(void *arg)
{
	struct oneshot *s = arg;
	char chunk[4096];
	int c;

	if (!readable(s->fd, 5000) || (c = accept(s->fd, NULL, NULL)) < 0)
		return NULL;
	for (;;) {
		const char *end = strstr(s->req.buf, "\r\n\r\n"), *cl;
		ssize_t n;

		if (end) {
			cl = strcasestr(s->req.buf, "\r\nContent-Length:");
			if (s->req.len >= (size_t)(end + 4 - s->req.buf) +
			    (cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0))
				break;
		}
		if (!readable(c, 5000) ||
		    (n = read(c, chunk, sizeof(chunk))) <= 0)
			break;
		gantry_buf_add(&s->req, chunk, (size_t)n);
	}
	if (write(c, s->answer, strlen(s->answer)) < 0)
		s->port = -1;
	close(c);
	return NULL;
}

static void oneshot_start(struct oneshot *s, const char *answer)
{
	struct sockaddr_in a = { 0 };
	socklen_t alen = sizeof(a);

	memset(s, 0, sizeof(*s));
	gantry_buf_init(&s->req);
	s->answer = answer;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(s->fd, 4), 0);
	ck_assert_int_eq(getsockname(s->fd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	ck_assert_int_eq(pthread_create(&s->thread, NULL, oneshot_run, s), 0);
}

/* Waits for the server; s->req stays readable until oneshot_free. */
static void oneshot_stop(struct oneshot *s)
{
	pthread_join(s->thread, NULL);
	close(s->fd);
}

static void oneshot_free(struct oneshot *s)
{
	gantry_buf_release(&s->req);
}

/* A request header's value (up to the end of its line), malloc'd. */
static char *req_header(const char *req, const char *name)
{
	char *pat = gantry_xasprintf("\r\n%s:", name);
	const char *p = strcasestr(req, pat), *e;
	char *v = NULL;

	if (p) {
		p += strlen(pat);
		while (*p == ' ')
			p++;
		e = strstr(p, "\r\n");
		v = gantry_xstrndup(p, e ? (size_t)(e - p) : strlen(p));
	}
	free(pat);
	return v;
}

/*
 * The credential chain.
 */

START_TEST(env_credentials_are_the_base_identity)
{
	assert_account(NULL, BASE_ACCOUNT);
	ck_assert_int_eq(sim_count("GetCallerIdentity"), 1);
}
END_TEST

START_TEST(static_staging_keys_are_used)
{
	setenv("AWS_ACCESS_KEY_ID", need("SANDBOX_STAGING_KEY_ID"), 1);
	setenv("AWS_SECRET_ACCESS_KEY", need("SANDBOX_STAGING_SECRET"), 1);
	assert_account(NULL, need("SANDBOX_STAGING_ACCOUNT"));
}
END_TEST

START_TEST(role_arn_assumes_into_each_account)
{
	struct gantry_ctx *ctx;
	struct gantry_aws *aws;
	char *account, *arn;

	ctx = ctx_with("aws.role_arn", need("SANDBOX_STAGING_ROLE"),
		       "deploy.id", "d-42", NULL);
	aws = gantry_aws_new(ctx);
	account = caller_account(aws, &arn);
	ck_assert_str_eq(account, need("SANDBOX_STAGING_ACCOUNT"));
	ck_assert_msg(strstr(arn, ":assumed-role/") != NULL, "%s", arn);
	ck_assert_msg(strstr(arn, "gantry-d-42") != NULL, "%s", arn);
	free(account);
	free(arn);
	gantry_aws_free(aws);
	gantry_i_ctx_free(ctx);

	ctx = ctx_with("aws.role_arn", need("SANDBOX_PRODUCTION_ROLE"), NULL);
	assert_account(ctx, need("SANDBOX_PRODUCTION_ACCOUNT"));
	gantry_i_ctx_free(ctx);
	ck_assert_int_eq(sim_count("AssumeRole"), 2);
}
END_TEST

START_TEST(web_identity_token_file_is_exchanged)
{
	const char *token = need("SANDBOX_WEB_IDENTITY_TOKEN");
	char path[128], *red;

	no_env_keys();
	write_file("token", token, path, sizeof(path));
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", path, 1);
	setenv("AWS_ROLE_ARN", need("SANDBOX_STAGING_ROLE"), 1);
	assert_account(NULL, need("SANDBOX_STAGING_ACCOUNT"));
	ck_assert_int_eq(sim_count("AssumeRoleWithWebIdentity"), 1);
	red = gantry_i_redact(token);
	ck_assert_str_eq(red, "***");
	free(red);
}
END_TEST

START_TEST(shared_files_profile_with_source_profile)
{
	char creds[128], config[128], *text;

	no_env_keys();
	/* The base identity's keys, saved before no_env_keys(). */
	{
		size_t i;
		const char *akid = NULL, *secret = NULL;

		for (i = 0; i < GANTRY_ARRAY_SIZE(vars); i++) {
			if (!strcmp(vars[i], "AWS_ACCESS_KEY_ID"))
				akid = saved[i];
			if (!strcmp(vars[i], "AWS_SECRET_ACCESS_KEY"))
				secret = saved[i];
		}
		ck_assert_ptr_nonnull(akid);
		ck_assert_ptr_nonnull(secret);
		text = gantry_xasprintf(
			"# keys\n[base]\naws_access_key_id = %s\n"
			"aws_secret_access_key=%s\n\n[staging]\n"
			"aws_access_key_id=%s\naws_secret_access_key = %s\n",
			akid, secret, need("SANDBOX_STAGING_KEY_ID"),
			need("SANDBOX_STAGING_SECRET"));
	}
	write_file("credentials", text, creds, sizeof(creds));
	free(text);
	text = gantry_xasprintf(
		"[default]\nregion = eu-west-1\n\n[profile deploy]\n"
		"role_arn = %s\nsource_profile = base\n"
		"s3 =\n  max_concurrent_requests = 4\n"
		"[sso-session x]\nrole_arn = nope\n",
		need("SANDBOX_PRODUCTION_ROLE"));
	write_file("config", text, config, sizeof(config));
	free(text);
	setenv("AWS_SHARED_CREDENTIALS_FILE", creds, 1);
	setenv("AWS_CONFIG_FILE", config, 1);

	setenv("AWS_PROFILE", "staging", 1);
	assert_account(NULL, need("SANDBOX_STAGING_ACCOUNT"));
	setenv("AWS_PROFILE", "deploy", 1);
	assert_account(NULL, need("SANDBOX_PRODUCTION_ACCOUNT"));
	ck_assert_int_eq(sim_count("AssumeRole"), 1);

	setenv("AWS_PROFILE", "missing", 1);
	{
		struct gantry_aws *aws = gantry_aws_new(NULL);
		struct gantry_json *out;

		ck_assert_int_eq(gantry_aws_query(aws, "sts",
						  "GetCallerIdentity", &out,
						  NULL), GANTRY_ECONFIG);
		ck_assert_ptr_null(out);
		ck_assert_msg(strstr(gantry_aws_error_line(aws),
				     "AWS profile 'missing'") != NULL, "%s",
			      gantry_aws_error_line(aws));
		gantry_aws_free(aws);
	}
}
END_TEST

START_TEST(profile_region_is_the_last_resort)
{
	char config[128];
	struct gantry_aws *aws;

	write_file("config", "[default]\nregion = eu-west-1\n", config,
		   sizeof(config));
	setenv("AWS_CONFIG_FILE", config, 1);
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
	aws = gantry_aws_new(NULL);
	ck_assert_str_eq(gantry_aws_region(aws), "eu-west-1");
	gantry_aws_free(aws);

	unsetenv("AWS_CONFIG_FILE");
	aws = gantry_aws_new(NULL);
	ck_assert_str_eq(gantry_aws_region(aws), "");
	ck_assert_int_eq(gantry_aws_json(aws, "ecs", "ListClusters", NULL,
					 NULL), GANTRY_ECONFIG);
	ck_assert_msg(strstr(gantry_aws_error_line(aws), "no AWS region: "
			     "set aws.region in the profile or AWS_REGION"),
		      "%s", gantry_aws_error_line(aws));
	ck_assert_int_eq(sim_count("ListClusters"), 0);
	gantry_aws_free(aws);
}
END_TEST

START_TEST(container_credentials_with_token)
{
	struct gantry_aws *aws;
	struct gantry_json *out;
	char *url, *red;

	no_env_keys();
	sim_do("/_sim/container-token", "{\"token\": \"ctr-token-0042\"}");
	url = gantry_xasprintf("%s/_creds/container", need("AWSSIM_URL"));
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	free(url);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ctr-token-0042", 1);
	assert_account(NULL, BASE_ACCOUNT);
	red = gantry_i_redact("Authorization: ctr-token-0042");
	ck_assert_str_eq(red, "Authorization: ***");
	free(red);

	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong-token", 1);
	aws = gantry_aws_new(NULL);
	ck_assert_int_eq(gantry_aws_query(aws, "sts", "GetCallerIdentity",
					  &out, NULL), GANTRY_EFAIL);
	ck_assert_msg(strstr(gantry_aws_error_line(aws),
			     "cannot get container credentials") != NULL,
		      "%s", gantry_aws_error_line(aws));
	gantry_aws_free(aws);
}
END_TEST

/*
 * The account check.
 */

START_TEST(wrong_account_is_refused_before_a_mutating_call)
{
	struct gantry_ctx *ctx = ctx_with("aws.account_id",
					  need("SANDBOX_PRODUCTION_ACCOUNT"),
					  NULL);
	struct gantry_aws *aws;
	struct gantry_json *out = (struct gantry_json *)1;
	const char *line;

	setenv("AWS_ACCESS_KEY_ID", need("SANDBOX_STAGING_KEY_ID"), 1);
	setenv("AWS_SECRET_ACCESS_KEY", need("SANDBOX_STAGING_SECRET"), 1);
	aws = gantry_aws_new(ctx);
	ck_assert_int_eq(gantry_aws_json(aws, "ecs", "UpdateService",
					 "{\"cluster\": \"c\", \"service\": "
					 "\"s\", \"forceNewDeployment\": true}",
					 &out), GANTRY_ECONFIG);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(gantry_aws_error_code(aws), "WrongAccount");
	line = gantry_aws_error_line(aws);
	ck_assert_msg(strstr(line, "ecs UpdateService") && strstr(line,
		      "AWS credentials are for account 127214192604 (arn:") &&
		      strstr(line, "aws.account_id = 429032495558"), "%s", line);
	/* Refused again without asking twice. */
	ck_assert_int_eq(gantry_aws_json(aws, "ecs", "DeleteService", NULL,
					 NULL), GANTRY_ECONFIG);
	ck_assert_int_eq(sim_count("UpdateService"), 0);
	ck_assert_int_eq(sim_count("DeleteService"), 0);
	ck_assert_int_eq(sim_count("GetCallerIdentity"), 1);
	gantry_aws_free(aws);
	gantry_i_ctx_free(ctx);
}
END_TEST

START_TEST(read_only_call_needs_no_account_check)
{
	struct gantry_ctx *ctx = ctx_with("aws.account_id",
					  need("SANDBOX_PRODUCTION_ACCOUNT"),
					  NULL);
	struct gantry_aws *aws;
	struct gantry_json *out;

	setenv("AWS_ACCESS_KEY_ID", need("SANDBOX_STAGING_KEY_ID"), 1);
	setenv("AWS_SECRET_ACCESS_KEY", need("SANDBOX_STAGING_SECRET"), 1);
	aws = gantry_aws_new(ctx);
	ck_assert_msg(gantry_aws_json(aws, "ecs", "ListClusters", NULL,
				      &out) == 0, "%s",
		      gantry_aws_error_line(aws));
	ck_assert_ptr_nonnull(gantry_json_get(out, "clusterArns"));
	gantry_json_free(out);
	ck_assert_int_eq(sim_count("GetCallerIdentity"), 0);
	ck_assert_int_eq(sim_count("ListClusters"), 1);
	gantry_aws_free(aws);
	gantry_i_ctx_free(ctx);
}
END_TEST

START_TEST(right_account_passes_the_check)
{
	struct gantry_ctx *ctx = ctx_with("aws.account_id", BASE_ACCOUNT,
					  NULL);
	struct gantry_aws *aws = gantry_aws_new(ctx);
	struct gantry_json *out;

	/* A mutating call that fails on its own merits, after the check. */
	ck_assert_int_eq(gantry_aws_json(aws, "ecs", "UpdateService",
					 "{\"cluster\": \"nope\", "
					 "\"service\": \"nope\"}", &out),
			 GANTRY_EFAIL);
	ck_assert_str_ne(gantry_aws_error_code(aws), "WrongAccount");
	ck_assert_int_eq(sim_count("GetCallerIdentity"), 1);
	ck_assert_int_eq(sim_count("UpdateService"), 1);
	ck_assert_str_eq(gantry_aws_account(aws), BASE_ACCOUNT);
	gantry_aws_free(aws);
	gantry_i_ctx_free(ctx);
}
END_TEST

/*
 * Retries.
 */

START_TEST(throttling_is_retried_up_to_max_attempts)
{
	struct gantry_ctx *ctx = ctx_with("aws.max_attempts", "3", NULL);
	struct gantry_aws *aws = gantry_aws_new(ctx);
	struct gantry_json *out;

	sim_do("/_sim/fault", "{\"operation\": \"DescribeServices\", "
	       "\"throttle_every\": 1}");
	ck_assert_int_eq(gantry_aws_json(aws, "ecs", "DescribeServices",
					 "{\"cluster\": \"default\", "
					 "\"services\": [\"x\"]}", &out),
			 GANTRY_EFAIL);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(gantry_aws_error_code(aws), "ThrottlingException");
	ck_assert_uint_eq(gantry_aws_attempts(aws), 3);
	ck_assert_int_eq(gantry_aws_error_status(aws), 400);
	ck_assert_int_eq(sim_count("DescribeServices"), 3);
	ck_assert_msg(strstr(gantry_aws_error_line(aws), "(after 3 attempts)"),
		      "%s", gantry_aws_error_line(aws));
	ck_assert_str_ne(gantry_aws_request_id(aws), "");
	gantry_aws_free(aws);
	gantry_i_ctx_free(ctx);
}
END_TEST

START_TEST(server_errors_are_retried_until_success)
{
	struct gantry_aws *aws = gantry_aws_new(NULL);
	struct gantry_json *out;

	sim_do("/_sim/fault", "{\"operation\": \"ListClusters\", "
	       "\"status_burst\": [503, 503]}");
	ck_assert_msg(gantry_aws_json(aws, "ecs", "ListClusters", NULL,
				      &out) == 0, "%s",
		      gantry_aws_error_line(aws));
	gantry_json_free(out);
	ck_assert_uint_eq(gantry_aws_attempts(aws), 3);
	ck_assert_int_eq(sim_count("ListClusters"), 3);
	gantry_aws_free(aws);
}
END_TEST

START_TEST(validation_error_is_not_retried)
{
	struct gantry_aws *aws = gantry_aws_new(NULL);
	struct gantry_json *out;

	ck_assert_int_eq(gantry_aws_json(aws, "ecs", "DescribeServices",
					 "{\"cluster\": \"no-such-cluster\", "
					 "\"services\": [\"x\"]}", &out),
			 GANTRY_EFAIL);
	ck_assert_str_eq(gantry_aws_error_code(aws),
			 "ClusterNotFoundException");
	ck_assert_str_ne(gantry_aws_error_message(aws), "");
	ck_assert_uint_eq(gantry_aws_attempts(aws), 1);
	ck_assert_int_eq(sim_count("DescribeServices"), 1);
	ck_assert_msg(!strncmp(gantry_aws_error_line(aws),
			       "ecs DescribeServices in ap-south-1: "
			       "ClusterNotFoundException: ", 54), "%s",
		      gantry_aws_error_line(aws));
	gantry_aws_free(aws);
}
END_TEST

/*
 * Endpoints and transport failures.
 */

START_TEST(endpoint_overrides_in_order)
{
	char *dead = gantry_xasprintf("http://127.0.0.1:%d", dead_port());
	char *sim_slash = gantry_xasprintf("%s/", need("AWSSIM_URL"));
	struct gantry_ctx *ctx;
	struct gantry_aws *aws;

	/* aws.endpoint_url.ecs beats AWS_ENDPOINT_URL_ECS. */
	setenv("AWS_ENDPOINT_URL_ECS", dead, 1);
	setenv("AWS_ENDPOINT_URL", dead, 1);
	ctx = ctx_with("aws.endpoint_url.ecs", sim_slash, NULL);
	aws = gantry_aws_new(ctx);
	ck_assert_str_eq(gantry_aws_endpoint(aws, "ecs"), need("AWSSIM_URL"));
	ck_assert_str_eq(gantry_aws_endpoint(aws, "sts"), dead);
	ck_assert_msg(gantry_aws_json(aws, "ecs", "ListClusters", NULL,
				      NULL) == 0, "%s",
		      gantry_aws_error_line(aws));
	gantry_aws_free(aws);
	gantry_i_ctx_free(ctx);

	/* AWS_ENDPOINT_URL_ECS beats AWS_ENDPOINT_URL. */
	setenv("AWS_ENDPOINT_URL_ECS", need("AWSSIM_URL"), 1);
	aws = gantry_aws_new(NULL);
	ck_assert_msg(gantry_aws_json(aws, "ecs", "ListClusters", NULL,
				      NULL) == 0, "%s",
		      gantry_aws_error_line(aws));
	gantry_aws_free(aws);
	ck_assert_int_eq(sim_count("ListClusters"), 2);

	/* Without overrides: the region's endpoints. */
	unsetenv("AWS_ENDPOINT_URL_ECS");
	unsetenv("AWS_ENDPOINT_URL");
	aws = gantry_aws_new(NULL);
	ck_assert_str_eq(gantry_aws_endpoint(aws, "ecr"),
			 "https://api.ecr.ap-south-1.amazonaws.com");
	ck_assert_str_eq(gantry_aws_endpoint(aws, "sts"),
			 "https://sts.ap-south-1.amazonaws.com");
	ck_assert_str_eq(gantry_aws_endpoint(aws, "monitoring"),
			 "https://monitoring.ap-south-1.amazonaws.com");
	ck_assert_str_eq(gantry_aws_endpoint(aws, "nope"), "");
	gantry_aws_free(aws);
	free(dead);
	free(sim_slash);
}
END_TEST

START_TEST(connection_refused_fails_after_max_attempts)
{
	char *dead = gantry_xasprintf("http://127.0.0.1:%d", dead_port());
	struct gantry_ctx *ctx = ctx_with("aws.max_attempts", "2", NULL);
	struct gantry_aws *aws;

	setenv("AWS_ENDPOINT_URL", dead, 1);
	aws = gantry_aws_new(ctx);
	ck_assert_int_eq(gantry_aws_json(aws, "ecs", "ListClusters", NULL,
					 NULL), GANTRY_EFAIL);
	ck_assert_int_eq(gantry_aws_error_status(aws), 0);
	ck_assert_uint_eq(gantry_aws_attempts(aws), 2);
	ck_assert_msg(strstr(gantry_aws_error_line(aws), "cannot reach ") &&
		      strstr(gantry_aws_error_line(aws), dead), "%s",
		      gantry_aws_error_line(aws));
	gantry_aws_free(aws);
	gantry_i_ctx_free(ctx);
	free(dead);
}
END_TEST

START_TEST(slow_answer_times_out)
{
	struct gantry_ctx *ctx = ctx_with("aws.timeout_ms", "300",
					  "aws.max_attempts", "2", NULL);
	struct gantry_aws *aws = gantry_aws_new(ctx);
	double t0 = gantry_now();

	sim_do("/_sim/fault", "{\"operation\": \"ListClusters\", "
	       "\"delay_ms\": 1500}");
	ck_assert_int_eq(gantry_aws_json(aws, "ecs", "ListClusters", NULL,
					 NULL), GANTRY_EFAIL);
	ck_assert_int_eq(gantry_aws_error_status(aws), 0);
	ck_assert_uint_eq(gantry_aws_attempts(aws), 2);
	ck_assert_msg(strstr(gantry_aws_error_message(aws), "cannot reach") &&
		      strcasestr(gantry_aws_error_message(aws), "timed out"),
		      "%s", gantry_aws_error_message(aws));
	ck_assert_msg(gantry_now() - t0 < 1.5, "took %.2f s",
		      gantry_now() - t0);
	gantry_aws_free(aws);
	gantry_i_ctx_free(ctx);
}
END_TEST

/* The entry's timeout (1 s) is shorter than an attempt's (30 s): the
   call ends with GANTRY_ETIMEOUT when the entry's time is up, with one
   attempt, not at the 30 s of libgantry's own limit. */
START_TEST(entry_timeout_cuts_the_attempt_short)
{
	struct gantry_ctx *ctx = ctx_with("aws.max_attempts", "3", NULL);
	struct gantry_aws *aws;
	double t0, took;

	ctx->timeout = 1;
	aws = gantry_aws_new(ctx);
	sim_do("/_sim/fault", "{\"operation\": \"DescribeClusters\", "
	       "\"delay_ms\": 2500}");
	/* The entry's second counts from now, not from ctx_with: setting
	   the fault up may take a good part of it on a busy machine, and
	   the call would end before the 0.7 s the test expects. */
	clock_gettime(CLOCK_MONOTONIC, &ctx->started);
	t0 = gantry_now();
	ck_assert_int_eq(gantry_aws_json(aws, "ecs", "DescribeClusters", NULL,
					 NULL), GANTRY_ETIMEOUT);
	took = gantry_now() - t0;
	ck_assert_uint_eq(gantry_aws_attempts(aws), 1);
	ck_assert_msg(strstr(gantry_aws_error_message(aws),
			     "within the entry's 1 s timeout (raise its "
			     "`timeout`"), "%s", gantry_aws_error_message(aws));
	ck_assert_msg(took > 0.7 && took < 1.5, "took %.2f s", took);
	gantry_aws_free(aws);
	gantry_i_ctx_free(ctx);
}
END_TEST

/* After the entry's timeout, a stage undoing its work gets what is left
   of its kill_grace less a second: with 3 s of grace a slow answer still
   comes; with 1 s nothing is left and the call fails at once. */
START_TEST(after_the_timeout_the_grace_is_the_budget)
{
	struct gantry_ctx *ctx = ctx_with("aws.max_attempts", "1", NULL);
	struct gantry_aws *aws;
	double t0;

	ctx->timeout = 1;
	ctx->kill_grace = 3;
	ctx->started.tv_sec -= 2;	/* the timeout passed a second ago */
	aws = gantry_aws_new(ctx);
	sim_do("/_sim/fault", "{\"operation\": \"DescribeClusters\", "
	       "\"delay_ms\": 400}");
	ck_assert_msg(gantry_aws_json(aws, "ecs", "DescribeClusters", NULL,
				      NULL) == 0, "%s",
		      gantry_aws_error_line(aws));
	gantry_aws_free(aws);

	ctx->kill_grace = 1;
	aws = gantry_aws_new(ctx);
	t0 = gantry_now();
	ck_assert_int_eq(gantry_aws_json(aws, "ecs", "DescribeClusters", NULL,
					 NULL), GANTRY_ETIMEOUT);
	ck_assert_msg(gantry_now() - t0 < 0.2, "took %.2f s",
		      gantry_now() - t0);
	gantry_aws_free(aws);
	gantry_i_ctx_free(ctx);
}
END_TEST

/* Throttled answers with a 1 s entry timeout: retries stop when the
   next backoff would not leave time for an attempt, and the error is the
   last answer's, not "no time left". */
START_TEST(no_retry_past_the_entry_timeout)
{
	struct gantry_ctx *ctx = ctx_with("aws.max_attempts", "50", NULL);
	struct gantry_aws *aws;
	double t0, took;

	ctx->timeout = 1;
	aws = gantry_aws_new(ctx);
	sim_do("/_sim/fault", "{\"operation\": \"ListClusters\", "
	       "\"throttle_every\": 1}");
	t0 = gantry_now();
	ck_assert_int_eq(gantry_aws_json(aws, "ecs", "ListClusters", NULL,
					 NULL), GANTRY_EFAIL);
	took = gantry_now() - t0;
	ck_assert_str_eq(gantry_aws_error_code(aws), "ThrottlingException");
	ck_assert_uint_lt(gantry_aws_attempts(aws), 50);
	ck_assert_msg(took < 1.0, "took %.2f s", took);
	gantry_aws_free(aws);
	gantry_i_ctx_free(ctx);
}
END_TEST

START_TEST(garbage_answer_is_a_clear_error)
{
	struct oneshot s;
	struct gantry_aws *aws;
	struct gantry_json *out;
	char *url;

	oneshot_start(&s, "HTTP/1.1 200 OK\r\nContent-Type: "
		      "application/x-amz-json-1.1\r\nContent-Length: 12\r\n"
		      "Connection: close\r\n\r\n<html>oops</");
	url = gantry_xasprintf("http://127.0.0.1:%d", s.port);
	setenv("AWS_ENDPOINT_URL_ECS", url, 1);
	aws = gantry_aws_new(NULL);
	ck_assert_int_eq(gantry_aws_json(aws, "ecs", "ListClusters", NULL,
					 &out), GANTRY_EFAIL);
	ck_assert_ptr_null(out);
	ck_assert_int_eq(gantry_aws_error_status(aws), 200);
	ck_assert_msg(strstr(gantry_aws_error_line(aws),
			     "ecs ListClusters in ap-south-1: malformed JSON "
			     "in the answer"), "%s",
		      gantry_aws_error_line(aws));
	oneshot_stop(&s);
	/* The JSON protocol's request shape. */
	ck_assert_msg(!strncmp(s.req.buf, "POST / HTTP/1.1\r\n", 17) &&
		      strstr(s.req.buf, "\r\nX-Amz-Target: AmazonEC2Container"
			     "ServiceV20141113.ListClusters\r\n") &&
		      strstr(s.req.buf, "\r\nContent-Type: application/"
			     "x-amz-json-1.1\r\n") &&
		      strstr(s.req.buf, "\r\n\r\n{}"), "%s", s.req.buf);
	oneshot_free(&s);
	gantry_aws_free(aws);
	free(url);
}
END_TEST

/*
 * Errors and secrets.
 */

START_TEST(wrong_secret_key_surfaces_the_signature_error)
{
	struct gantry_aws *aws;
	const char *line;

	setenv("AWS_SECRET_ACCESS_KEY", "wrong/secret/key/000000000000000000",
	       1);
	aws = gantry_aws_new(NULL);
	ck_assert_int_eq(gantry_aws_json(aws, "ecs", "ListClusters", NULL,
					 NULL), GANTRY_EFAIL);
	ck_assert_str_eq(gantry_aws_error_code(aws),
			 "InvalidSignatureException");
	/* 400, as AWS answers for JSON services (403 for Query). */
	ck_assert_int_eq(gantry_aws_error_status(aws), 400);
	ck_assert_uint_eq(gantry_aws_attempts(aws), 1);
	line = gantry_aws_error_line(aws);
	ck_assert_msg(strstr(line, "InvalidSignatureException: ") &&
		      strstr(line, "; check the credentials (aws.role_arn in "
			     "the profile, AWS_PROFILE or AWS_ACCESS_KEY_ID)"),
		      "%s", line);
	/* The key itself never shows. */
	ck_assert_ptr_null(strstr(line, "wrong/secret"));
	gantry_aws_free(aws);

	/* The Query protocol's name for it. */
	aws = gantry_aws_new(NULL);
	ck_assert_int_eq(gantry_aws_query(aws, "sts", "GetCallerIdentity",
					  NULL, NULL), GANTRY_EFAIL);
	ck_assert_str_eq(gantry_aws_error_code(aws), "SignatureDoesNotMatch");
	ck_assert_str_ne(gantry_aws_request_id(aws), "");
	gantry_aws_free(aws);
}
END_TEST

START_TEST(secrets_whole_and_by_key)
{
	struct gantry_aws *aws = gantry_aws_new(NULL);
	char *v, *red;

	sim_do("/_sim/secret", "{\"account\": \"" BASE_ACCOUNT "\", "
	       "\"region\": \"ap-south-1\", \"name\": \"app/db\", \"value\": "
	       "\"{\\\"password\\\": \\\"pw-0123456789\\\", \\\"port\\\": "
	       "5432}\"}");
	sim_do("/_sim/secret", "{\"account\": \"" BASE_ACCOUNT "\", "
	       "\"region\": \"ap-south-1\", \"name\": \"plain\", \"value\": "
	       "\"just-a-plain-secret\"}");

	v = gantry_aws_secret(aws, "plain", NULL);
	ck_assert_msg(v != NULL, "%s", gantry_aws_error_line(aws));
	ck_assert_str_eq(v, "just-a-plain-secret");
	free(v);
	red = gantry_i_redact("x just-a-plain-secret y");
	ck_assert_str_eq(red, "x *** y");
	free(red);

	v = gantry_aws_secret(aws, "app/db", "password");
	ck_assert_msg(v != NULL, "%s", gantry_aws_error_line(aws));
	ck_assert_str_eq(v, "pw-0123456789");
	free(v);
	red = gantry_i_redact("password=pw-0123456789");
	ck_assert_str_eq(red, "password=***");
	free(red);
	v = gantry_aws_secret(aws, "app/db", "port");
	ck_assert_str_eq(v, "5432");
	free(v);

	ck_assert_ptr_null(gantry_aws_secret(aws, "app/db", "user"));
	ck_assert_msg(strstr(gantry_aws_error_line(aws),
			     "secret 'app/db' has no key 'user'"), "%s",
		      gantry_aws_error_line(aws));
	ck_assert_ptr_null(gantry_aws_secret(aws, "plain", "user"));
	ck_assert_msg(strstr(gantry_aws_error_line(aws), "no key 'user'"),
		      "%s", gantry_aws_error_line(aws));

	ck_assert_ptr_null(gantry_aws_secret(aws, "no/such", NULL));
	ck_assert_str_eq(gantry_aws_error_code(aws),
			 "ResourceNotFoundException");
	ck_assert_msg(!strncmp(gantry_aws_error_line(aws),
			       "secretsmanager GetSecretValue in ", 33), "%s",
		      gantry_aws_error_line(aws));
	gantry_aws_free(aws);
}
END_TEST

/*
 * Protocols.
 */

START_TEST(ecs_call_reaches_ecs_by_target)
{
	struct gantry_aws *aws = gantry_aws_new(NULL);
	struct gantry_json *out, *calls, *last;

	ck_assert_msg(gantry_aws_json(aws, "ecs", "ListClusters", "{}",
				      &out) == 0, "%s",
		      gantry_aws_error_line(aws));
	ck_assert_int_eq(gantry_json_type(gantry_json_get(out,
							  "clusterArns")),
			 GANTRY_JSON_ARRAY);
	gantry_json_free(out);
	ck_assert_int_eq(sim_count("ListClusters"), 1);
	calls = sim("/_sim/calls", "{}");
	last = gantry_json_at(gantry_json_get(calls, "calls"), 0);
	ck_assert_str_eq(gantry_json_string(last, "service", ""), "ecs");
	ck_assert_str_eq(gantry_json_string(last, "operation", ""),
			 "ListClusters");
	ck_assert_str_eq(gantry_json_string(last, "account", ""),
			 BASE_ACCOUNT);
	gantry_json_free(calls);
	gantry_aws_free(aws);
}
END_TEST

START_TEST(query_answer_becomes_json_with_member_arrays)
{
	struct gantry_aws *aws = gantry_aws_new(NULL);
	struct gantry_json *out, *alarms;

	sim_do("/_sim/alarm", "{\"account\": \"" BASE_ACCOUNT "\", "
	       "\"region\": \"ap-south-1\", \"name\": \"api-5xx\", "
	       "\"state\": \"ALARM\"}");
	sim_do("/_sim/alarm", "{\"account\": \"" BASE_ACCOUNT "\", "
	       "\"region\": \"ap-south-1\", \"name\": \"api-latency\", "
	       "\"state\": \"OK\"}");
	ck_assert_msg(gantry_aws_query(aws, "monitoring", "DescribeAlarms",
				       &out, "AlarmNames.member.1", "api-5xx",
				       "AlarmNames.member.2", "api-latency",
				       NULL) == 0, "%s",
		      gantry_aws_error_line(aws));
	alarms = gantry_json_get(out, "DescribeAlarmsResult.MetricAlarms");
	ck_assert_int_eq(gantry_json_type(alarms), GANTRY_JSON_ARRAY);
	ck_assert_uint_eq(gantry_json_length(alarms), 2);
	ck_assert_str_eq(gantry_json_string(alarms, "[0].AlarmName", ""),
			 "api-5xx");
	ck_assert_str_eq(gantry_json_string(alarms, "[0].StateValue", ""),
			 "ALARM");
	ck_assert_str_eq(gantry_json_string(alarms, "[1].StateValue", ""),
			 "OK");
	ck_assert_str_ne(gantry_json_string(out,
					    "ResponseMetadata.RequestId", ""),
			 "");
	gantry_json_free(out);
	gantry_aws_free(aws);
}
END_TEST

START_TEST(s3_request_is_signed_with_the_payload_hash)
{
	static const char body[] = "hello world";
	static const char want_line[] =
		"PUT /my-bucket/dir/a%20b%2Bc.txt HTTP/1.1\r\n";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen, i;
	char want[65], *url, *sha, *auth, *resp;
	struct oneshot s;
	struct gantry_aws *aws;
	size_t rlen;
	long status;

	EVP_Digest(body, strlen(body), md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < mdlen; i++)
		snprintf(want + 2 * i, 3, "%02x", md[i]);
	oneshot_start(&s, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
		      "ETag: \"abc\"\r\nConnection: close\r\n\r\nok");
	url = gantry_xasprintf("http://127.0.0.1:%d/", s.port);
	setenv("AWS_ENDPOINT_URL_S3", url, 1);
	setenv("AWS_SESSION_TOKEN", "session-token-for-s3-test", 1);
	aws = gantry_aws_new(NULL);
	ck_assert_msg(gantry_aws_s3(aws, "PUT", "my-bucket", "dir/a b+c.txt",
				    body, strlen(body), &status, &resp, &rlen,
				    "If-None-Match: *", NULL) == 0, "%s",
		      gantry_aws_error_line(aws));
	oneshot_stop(&s);
	ck_assert_int_eq(status, 200);
	ck_assert_uint_eq(rlen, 2);
	ck_assert_str_eq(resp, "ok");
	free(resp);

	ck_assert_msg(!strncmp(s.req.buf, want_line, strlen(want_line)),
		      "%.60s", s.req.buf);
	sha = req_header(s.req.buf, "x-amz-content-sha256");
	ck_assert_ptr_nonnull(sha);
	ck_assert_str_eq(sha, want);
	auth = req_header(s.req.buf, "Authorization");
	ck_assert_ptr_nonnull(auth);
	ck_assert_msg(!strncmp(auth, "AWS4-HMAC-SHA256 Credential=", 28) &&
		      strstr(auth, "/ap-south-1/s3/aws4_request") &&
		      strstr(auth, "SignedHeaders=") &&
		      strstr(auth, "x-amz-content-sha256") &&
		      strstr(auth, "x-amz-security-token") &&
		      strstr(auth, "if-none-match"), "%s", auth);
	ck_assert_ptr_nonnull(strstr(s.req.buf, "\r\n\r\nhello world"));
	free(sha);
	free(auth);
	oneshot_free(&s);
	gantry_aws_free(aws);
	free(url);
}
END_TEST

START_TEST(s3_error_answer_is_parsed)
{
	struct oneshot s;
	struct gantry_aws *aws;
	char *url, *resp = NULL;
	long status;
	static const char answer[] =
		"HTTP/1.1 404 Not Found\r\nContent-Type: application/xml\r\n"
		"x-amz-request-id: REQ123\r\nContent-Length: 140\r\n"
		"Connection: close\r\n\r\n"
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
		"NoSuchKey</Code><Message>The specified key does not exist."
		"</Message><Key>k</Key></Error>";

	ck_assert_uint_eq(strlen(strstr(answer, "\r\n\r\n") + 4), 140);
	oneshot_start(&s, answer);
	url = gantry_xasprintf("http://127.0.0.1:%d", s.port);
	setenv("AWS_ENDPOINT_URL_S3", url, 1);
	aws = gantry_aws_new(NULL);
	ck_assert_int_eq(gantry_aws_s3(aws, "GET", "b", "k", NULL, 0,
				       &status, &resp, NULL, NULL),
			 GANTRY_EFAIL);
	oneshot_stop(&s);
	ck_assert_ptr_null(resp);
	ck_assert_int_eq(status, 404);
	ck_assert_str_eq(gantry_aws_error_code(aws), "NoSuchKey");
	ck_assert_str_eq(gantry_aws_error_message(aws),
			 "The specified key does not exist.");
	ck_assert_str_eq(gantry_aws_request_id(aws), "REQ123");
	ck_assert_msg(!strncmp(s.req.buf, "GET /b/k HTTP/1.1\r\n", 19),
		      "%.40s", s.req.buf);
	oneshot_free(&s);
	gantry_aws_free(aws);
	free(url);
}
END_TEST

static Suite *aws_suite(void)
{
	Suite *s = suite_create("aws");
	TCase *creds = tcase_create("credentials");
	TCase *calls = tcase_create("calls");
	TCase *local = tcase_create("local");

	tcase_add_checked_fixture(creds, setup, teardown);
	tcase_add_checked_fixture(calls, setup, teardown);
	tcase_add_checked_fixture(local, setup, teardown);
	tcase_set_timeout(creds, 30);
	tcase_set_timeout(calls, 30);
	tcase_set_timeout(local, 30);

	tcase_add_test(creds, env_credentials_are_the_base_identity);
	tcase_add_test(creds, static_staging_keys_are_used);
	tcase_add_test(creds, role_arn_assumes_into_each_account);
	tcase_add_test(creds, web_identity_token_file_is_exchanged);
	tcase_add_test(creds, shared_files_profile_with_source_profile);
	tcase_add_test(creds, profile_region_is_the_last_resort);
	tcase_add_test(creds, container_credentials_with_token);
	tcase_add_test(creds, wrong_account_is_refused_before_a_mutating_call);
	tcase_add_test(creds, read_only_call_needs_no_account_check);
	tcase_add_test(creds, right_account_passes_the_check);

	tcase_add_test(calls, throttling_is_retried_up_to_max_attempts);
	tcase_add_test(calls, server_errors_are_retried_until_success);
	tcase_add_test(calls, validation_error_is_not_retried);
	tcase_add_test(calls, endpoint_overrides_in_order);
	tcase_add_test(calls, connection_refused_fails_after_max_attempts);
	tcase_add_test(calls, slow_answer_times_out);
	tcase_add_test(calls, entry_timeout_cuts_the_attempt_short);
	tcase_add_test(calls, no_retry_past_the_entry_timeout);
	tcase_add_test(calls, after_the_timeout_the_grace_is_the_budget);
	tcase_add_test(calls, wrong_secret_key_surfaces_the_signature_error);
	tcase_add_test(calls, secrets_whole_and_by_key);
	tcase_add_test(calls, ecs_call_reaches_ecs_by_target);
	tcase_add_test(calls, query_answer_becomes_json_with_member_arrays);

	tcase_add_test(local, garbage_answer_is_a_clear_error);
	tcase_add_test(local, s3_request_is_signed_with_the_payload_hash);
	tcase_add_test(local, s3_error_answer_is_parsed);

	suite_add_tcase(s, creds);
	suite_add_tcase(s, calls);
	suite_add_tcase(s, local);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(aws_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
