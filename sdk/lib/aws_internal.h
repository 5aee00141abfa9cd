/*
 * aws_internal.h - what aws.c, aws_call.c, aws_creds.c, aws_error.c and
 * aws_xml.c share: the client's state, one signed request with retries
 * (over transport.h), errors, the credential chain and the XML reader.
 * Private to libgantry.
 */
#ifndef GANTRY_AWS_INTERNAL_H
#define GANTRY_AWS_INTERNAL_H

#include <stddef.h>
#include <time.h>

#include <gantry/aws.h>
#include "internal.h"

/* A set of credentials.  expires is 0 for keys that do not expire. */
struct aws_creds {
	char *akid;
	char *secret;
	char *token;
	time_t expires;
};

/* The services the client knows; the index into aws->endpoints. */
struct aws_service {
	const char *name;	/* "ecs": signing service and endpoint key */
	const char *host;	/* default host prefix: "api.ecr" */
	const char *target;	/* X-Amz-Target prefix (JSON protocol) */
	const char *json;	/* "1.1", "1.0" (JSON protocol) */
	const char *version;	/* Version= of the Query protocol */
	const char *env;	/* AWS_ENDPOINT_URL_<env> */
};

struct gantry_aws {
	struct gantry_ctx *ctx;

	/* Settings, read once from ctx and the environment. */
	char *region;
	char *account_id;	/* aws.account_id, or NULL */
	char *role_arn;
	char *external_id;
	char *session_name;
	unsigned max_attempts;
	double max_retry_seconds;
	long timeout_ms;
	char *config_error;	/* a bad setting, reported by the first call */
	char **endpoints;	/* per service, resolved lazily */

	/* Credentials: base (from the chain) and the ones calls use (base,
	   or the role assumed with it). */
	struct aws_creds base;
	struct aws_creds creds;
	int account_checked;
	char *identity_account;	/* from GetCallerIdentity */
	char *identity_arn;

	/* The last call's error. */
	char *err_service;
	char *err_operation;
	long err_status;
	char *err_code;
	char *err_message;
	char *err_request_id;
	unsigned attempts;
	char *err_line;
};

/* One request: what to send, and what came back. */
struct aws_request {
	const struct aws_service *svc;
	const char *operation;		/* for logs and errors */
	const char *method;		/* "POST", "GET", ... */
	const char *path;		/* "/" or "/bucket/key" */
	const char *content_type;	/* NULL: none */
	char *target;			/* X-Amz-Target value or NULL */
	const char *body;
	size_t len;
	const struct aws_creds *creds;	/* NULL: unsigned */
	int s3;				/* add x-amz-content-sha256 */
	int xml_errors;			/* error bodies are XML */
	const char *const *extra;	/* more "Name: value" headers */

	long status;
	struct gantry_buf resp;
	char *request_id;
	char *error_type;		/* x-amzn-ErrorType */
};

const struct aws_service *aws_i_service(const char *name);

/* Resets the last-call error fields for a new call. */
void aws_i_begin(struct gantry_aws *aws, const char *service,
		 const char *operation);
/* Frees the last-call error fields. */
void aws_i_error_clear(struct gantry_aws *aws);
/* Sets code, message and request id (copied) and the error line. */
void aws_i_set_error(struct gantry_aws *aws, const char *code,
		     const char *message, const char *request_id);
/* Reads the error out of an unsuccessful answer into aws. */
void aws_i_parse_error(struct gantry_aws *aws, struct aws_request *req);
/* Non-zero for AWS's throttling error codes (retried like a 429). */
int aws_i_throttling(const char *code);
/* Records an error that is not an AWS response; returns code. */
int aws_i_fail(struct gantry_aws *aws, int code, const char *err_code,
	       const char *fmt, ...) GANTRY_PRINTF(4, 5);

/* Sends req with retries.  0 on a 2xx answer; otherwise a negative code
   with the error recorded in aws.  req's response fields stay set
   either way; aws_i_request_release frees them. */
int aws_i_perform(struct gantry_aws *aws, struct aws_request *req);
void aws_i_request_release(struct aws_request *req);

/* A Query protocol call with explicit credentials (NULL: unsigned);
   params is a NULL-terminated name/value array. */
int aws_i_query(struct gantry_aws *aws, const char *service,
		const char *action, const struct aws_creds *creds,
		const char *const *params, struct gantry_json **out);

/* Makes aws->creds usable: resolves the chain on first use, renews
   expiring sessions.  0, or a negative code with the error recorded. */
int aws_i_creds(struct gantry_aws *aws);
void aws_i_creds_clear(struct aws_creds *c);
/* The region of the shared config's profile, or NULL (malloc'd). */
char *aws_i_profile_region(void);
/* Parses "2024-05-01T12:00:00Z" (fractions and +00:00 allowed); 0 on
   failure. */
time_t aws_i_parse_time(const char *s);

/* The XML document's root element as JSON (see gantry_aws_query), or
   NULL with a message in err. */
struct gantry_json *aws_i_xml_to_json(const char *xml, size_t len,
				      char *err, size_t errlen);

#endif
