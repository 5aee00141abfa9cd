/*
 * aws_error.c - the AWS client's errors: what the last call's failure
 * was (gantry_aws_error_*), the one line that says it, and reading the
 * error out of an answer of each protocol.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_internal.h"

#define CREDENTIALS_HINT "; check the credentials (aws.role_arn in the " \
	"profile, AWS_PROFILE or AWS_ACCESS_KEY_ID)"

void aws_i_error_clear(struct gantry_aws *aws)
{
	free(aws->err_service);
	free(aws->err_operation);
	free(aws->err_code);
	free(aws->err_message);
	free(aws->err_request_id);
	free(aws->err_line);
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
	aws_i_error_clear(aws);
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

void aws_i_set_error(struct gantry_aws *aws, const char *code,
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
	aws_i_set_error(aws, err_code, b.buf, aws->err_request_id);
	gantry_buf_release(&b);
	return code;
}

int aws_i_throttling(const char *code)
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
void aws_i_parse_error(struct gantry_aws *aws, struct aws_request *req)
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
	aws_i_set_error(aws, code, msg, req->request_id ? req->request_id : rid);
	gantry_json_free(j);
	free(code);
	free(msg);
	free(rid);
}
