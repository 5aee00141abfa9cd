/*
 * gantry/aws.h - calling AWS APIs: credentials, endpoints, signing,
 * retries, errors.
 *
 * A struct gantry_aws is a client for one deploy environment.  It reads
 * its settings from the context the core publishes from the profile's
 * `aws` group:
 *
 *   aws.region, aws.account_id, aws.role_arn, aws.external_id,
 *   aws.session_name, aws.endpoint_url (all services),
 *   aws.endpoint_url.<service> (one service: ecs, ecr, sts, logs,
 *   monitoring, secretsmanager, dynamodb, s3), aws.max_attempts,
 *   aws.max_retry_seconds
 *
 * (and, undocumented for users, aws.timeout_ms: the per-attempt timeout,
 * default 30000, for tests) then the environment: AWS_REGION /
 * AWS_DEFAULT_REGION (last, the region of the shared config's profile),
 * AWS_MAX_ATTEMPTS, AWS_ENDPOINT_URL_<SERVICE> (e.g. AWS_ENDPOINT_URL_ECS;
 * the AWS SDKs' names _SECRETS_MANAGER, _CLOUDWATCH_LOGS, _CLOUDWATCH
 * and the plain upper-case service name both work) and AWS_ENDPOINT_URL.
 * An endpoint is taken from the first of aws.endpoint_url.<service>,
 * aws.endpoint_url, AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL; without
 * an override it is the real one of the region
 * (https://ecs.ap-south-1.amazonaws.com, https://api.ecr.<region>...).
 * The session name defaults to "gantry-<deploy.id>" (or the pid).  The
 * client keeps ctx for log prefixes: free it before ctx.
 *
 * Credentials, resolved on the first call, in the usual AWS order:
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN; web
 * identity (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, STS
 * AssumeRoleWithWebIdentity); the shared files (~/.aws/credentials,
 * ~/.aws/config, AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE,
 * AWS_PROFILE; a profile's role_arn + source_profile is assumed); container
 * credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI, with
 * AWS_CONTAINER_AUTHORIZATION_TOKEN).  When aws.role_arn is set, those
 * credentials assume it (STS AssumeRole with aws.external_id and
 * aws.session_name) and the session is renewed five minutes before it
 * expires.  Before the first mutating call (an operation whose name does
 * not start with Describe, List, Get or BatchGet; STS calls never are;
 * for S3, PUT, POST and DELETE), when aws.account_id is set, the account
 * of the credentials is checked against it with GetCallerIdentity; a
 * mismatch fails with GANTRY_ECONFIG and the error code "WrongAccount".
 *
 * Requests are signed with SigV4 by libcurl.  Throttling errors, 5xx and
 * connection failures are retried with exponential backoff and full
 * jitter (aws.max_attempts, default 5; aws.max_retry_seconds, default 60);
 * validation and authorisation errors never are.  A call keeps to the
 * entry's timeout (gantry_ctx_remaining): each attempt is cut to the time
 * left (at least 0.2 s), no retry starts that the timeout would cut
 * short, and a call that runs out of time fails with GANTRY_ETIMEOUT, so
 * the stage can report and clean up before the core's backstop.  A call
 * made after the timeout (a stage undoing its work in the kill_grace the
 * core gives it) may use what is left of that grace, less a second.  One
 * connection is reused across the calls of a client.  Secret material (keys, tokens,
 * signatures) is registered with the redactor and never logged.
 *
 * Since ABI 1.0 (libgantry 0.1).
 */
#ifndef GANTRY_AWS_H
#define GANTRY_AWS_H

#include <stddef.h>
#include <gantry/stage.h>
#include <gantry/json.h>

#ifdef __cplusplus
extern "C" {
#endif

struct gantry_aws;

/* A client configured from ctx (may be NULL: environment only).  Never
   NULL; configuration problems surface on the first call. */
struct gantry_aws *gantry_aws_new(struct gantry_ctx *ctx);
void gantry_aws_free(struct gantry_aws *aws);

/* The region and the account the client targets ("" when unknown). */
const char *gantry_aws_region(const struct gantry_aws *aws);
const char *gantry_aws_account(const struct gantry_aws *aws);

/* The endpoint URL used for service ("ecs", "sts", ...). */
const char *gantry_aws_endpoint(struct gantry_aws *aws, const char *service);

/*
 * JSON protocol (1.1 for ecs, ecr, logs, secretsmanager; 1.0 for dynamodb):
 * calls service's operation with a JSON body (NULL: "{}").  On success
 * returns 0 and *out holds the parsed response (free with
 * gantry_json_free).  On failure returns a negative GANTRY_E* code,
 * *out is NULL and the error is available through gantry_aws_error_*().
 */
int gantry_aws_json(struct gantry_aws *aws, const char *service,
		    const char *operation, const char *body,
		    struct gantry_json **out);

/*
 * Query protocol (sts, monitoring): params are name/value pairs ending
 * with NULL ("RoleArn", "arn:...", NULL).  The XML response is returned
 * as JSON: elements become object members, text becomes strings, and
 * the children of an element whose children are all <member> become an
 * array (e.g. "DescribeAlarmsResult.MetricAlarms[0].StateValue"); the
 * document is the root element's content, and an element name repeated
 * among siblings collects its values in an array.
 */
int gantry_aws_query(struct gantry_aws *aws, const char *service,
		     const char *action, struct gantry_json **out, ...);

/*
 * REST-XML for S3, path-style (endpoint/bucket/key).  method "GET",
 * "PUT", "DELETE", "HEAD"; body may be NULL.  Extra headers are "Name:
 * value" strings ending with NULL (e.g. "If-None-Match: *").  Returns 0
 * with the status in *status and the body (malloc'd, NUL-terminated; free
 * it) in *resp, or a negative code on an error response (parsed from the
 * XML error body; *status still set) or no response.  key is encoded per
 * path segment; NULL addresses the bucket.  Bodies go as
 * application/octet-stream unless a Content-Type header is given.
 */
int gantry_aws_s3(struct gantry_aws *aws, const char *method,
		  const char *bucket, const char *key, const char *body,
		  size_t len, long *status, char **resp, size_t *resp_len,
		  ...);

/* The last call's error: HTTP status (0 when no response), AWS error code
   without namespace prefix ("ThrottlingException"), message, request id
   and attempts made.  Strings are "" when absent; valid until the next
   call. */
long gantry_aws_error_status(const struct gantry_aws *aws);
const char *gantry_aws_error_code(const struct gantry_aws *aws);
const char *gantry_aws_error_message(const struct gantry_aws *aws);
const char *gantry_aws_request_id(const struct gantry_aws *aws);
unsigned gantry_aws_attempts(const struct gantry_aws *aws);

/* One line for users: "ecs UpdateService in 429032495558/ap-south-1:
   AccessDeniedException: <message>" (redacted), with " (after N
   attempts)" when retried, and a hint to check the credentials after
   authorisation and signature errors.  "" before any error. */
const char *gantry_aws_error_line(const struct gantry_aws *aws);

/* The secret string of Secrets Manager secret `id` (name or ARN), or the
   member `json_key` of it when not NULL (a non-string member as JSON
   text); both registered with the redactor.  Malloc'd; NULL on failure
   (see gantry_aws_error_line; a missing key: "secret 'x' has no key
   'k'"). */
char *gantry_aws_secret(struct gantry_aws *aws, const char *id,
			const char *json_key);

#ifdef __cplusplus
}
#endif

#endif
