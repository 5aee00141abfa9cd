/*
 * aws_creds.c - where the client's credentials come from, in the AWS
 * SDKs' order: environment, web identity, the shared files' profile,
 * container credentials; then aws.role_arn assumed with them.
 *
 * Every secret key, session token and web identity token goes to the
 * redactor the moment it is read, before anything can print it.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws_internal.h"

/* Renew sessions this long before they end. */
#define CREDS_RENEW_SECONDS 300
#define CREDS_FILE_MAX (1024 * 1024)
#define PROFILE_MAX_DEPTH 5
#define CONTAINER_HOST "http://169.254.170.2"

void aws_i_creds_clear(struct aws_creds *c)
{
	free(c->akid);
	free(c->secret);
	free(c->token);
	memset(c, 0, sizeof(*c));
}

static void creds_set(struct aws_creds *c, const char *akid,
		      const char *secret, const char *token, time_t expires)
{
	aws_i_creds_clear(c);
	gantry_secret_add(secret);
	gantry_secret_add(token);
	c->akid = gantry_xstrdup(akid);
	c->secret = gantry_xstrdup(secret);
	c->token = token && *token ? gantry_xstrdup(token) : NULL;
	c->expires = expires;
}

static int usable(const struct aws_creds *c)
{
	return c->akid && (!c->expires ||
			   c->expires - time(NULL) > CREDS_RENEW_SECONDS);
}

time_t aws_i_parse_time(const char *s)
{
	struct tm tm = { 0 };
	int n = 0, oh = 0, om = 0;
	char sign;
	time_t t;

	if (!s || sscanf(s, "%d-%d-%dT%d:%d:%d%n", &tm.tm_year, &tm.tm_mon,
			 &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
			 &n) != 6)
		return 0;
	/* The text comes from the network: out-of-range fields would
	   overflow the arithmetic below. */
	if (tm.tm_year < 1970 || tm.tm_year > 9999 || tm.tm_mon < 1 ||
	    tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 ||
	    tm.tm_min > 59 || tm.tm_sec < 0 || tm.tm_sec > 60)
		return 0;
	s += n;
	if (*s == '.')
		for (s++; isdigit((unsigned char)*s); s++)
			;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return 0;
	if ((*s == '+' || *s == '-') &&
	    sscanf(s, "%c%d:%d", &sign, &oh, &om) == 3 &&
	    oh >= 0 && oh <= 23 && om >= 0 && om <= 59)
		t += (sign == '+' ? -1 : 1) * (oh * 3600 + om * 60);
	return t;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/*
 * The shared files.  One list holds both: credentials-file sections
 * first, so their keys win, as in the AWS CLI.
 */
struct ini_entry {
	char *section;
	char *key;
	char *value;
};

struct ini {
	struct ini_entry *v;
	size_t n, alloc;
	char *cred_path;
	char *config_path;
};

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* In the config file a profile is "[profile x]" (but "[default]"). */
static char *section_name(char *name, int config)
{
	name = trim(name);
	if (!config || !strcmp(name, "default"))
		return gantry_xstrdup(name);
	if (!strncmp(name, "profile", 7) && isspace((unsigned char)name[7]))
		return gantry_xstrdup(trim(name + 8));
	return NULL;	/* sso-session and friends: not profiles */
}

static void ini_load(struct ini *ini, const char *path, int config)
{
	char *text = gantry_i_read_file(path, CREDS_FILE_MAX), *line, *next;
	char *section = NULL;

	if (!text)
		return;
	for (line = text; line; line = next) {
		char *eq, *l;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* Indented lines continue a nested value (s3 = ...). */
		if (isspace((unsigned char)*line))
			continue;
		l = trim(line);
		if (!*l || *l == '#' || *l == ';')
			continue;
		if (*l == '[') {
			char *close = strchr(l, ']');

			free(section);
			section = NULL;
			if (close) {
				*close = '\0';
				section = section_name(l + 1, config);
			}
			continue;
		}
		if (!section || !(eq = strchr(l, '=')))
			continue;
		*eq = '\0';
		GANTRY_GROW(ini->v, ini->n + 1, ini->alloc);
		ini->v[ini->n].section = gantry_xstrdup(section);
		ini->v[ini->n].key = gantry_xstrdup(trim(l));
		ini->v[ini->n].value = gantry_xstrdup(trim(eq + 1));
		ini->n++;
	}
	free(section);
	free(text);
}

static char *file_path(const char *var, const char *name)
{
	const char *v = env(var), *home = env("HOME");

	if (v && v[0] == '~' && v[1] == '/' && home)
		return gantry_xasprintf("%s%s", home, v + 1);
	if (v)
		return gantry_xstrdup(v);
	return gantry_xasprintf("%s/.aws/%s", home ? home : "", name);
}

static void ini_open(struct ini *ini)
{
	memset(ini, 0, sizeof(*ini));
	ini->cred_path = file_path("AWS_SHARED_CREDENTIALS_FILE",
				   "credentials");
	ini->config_path = file_path("AWS_CONFIG_FILE", "config");
	ini_load(ini, ini->cred_path, 0);
	ini_load(ini, ini->config_path, 1);
}

static void ini_close(struct ini *ini)
{
	size_t i;

	for (i = 0; i < ini->n; i++) {
		free(ini->v[i].section);
		free(ini->v[i].key);
		free(ini->v[i].value);
	}
	free(ini->v);
	free(ini->cred_path);
	free(ini->config_path);
}

static const char *ini_get(const struct ini *ini, const char *section,
			   const char *key)
{
	size_t i;

	for (i = 0; i < ini->n; i++)
		if (!strcmp(ini->v[i].section, section) &&
		    !strcmp(ini->v[i].key, key))
			return *ini->v[i].value ? ini->v[i].value : NULL;
	return NULL;
}

static int ini_has(const struct ini *ini, const char *section)
{
	size_t i;

	for (i = 0; i < ini->n; i++)
		if (!strcmp(ini->v[i].section, section))
			return 1;
	return 0;
}

static const char *profile_name(void)
{
	const char *p = env("AWS_PROFILE");

	return p ? p : env("AWS_DEFAULT_PROFILE");
}

char *aws_i_profile_region(void)
{
	const char *name = profile_name(), *v;
	struct ini ini;
	char *region;

	ini_open(&ini);
	v = ini_get(&ini, name ? name : "default", "region");
	region = v ? gantry_xstrdup(v) : NULL;
	ini_close(&ini);
	return region;
}

/*
 * STS.
 */

static int take_sts(struct gantry_aws *aws, struct gantry_json *doc,
		    const char *result, struct aws_creds *out)
{
	char path[96];
	const char *akid, *secret, *token, *exp;

	snprintf(path, sizeof(path), "%s.Credentials.SecretAccessKey", result);
	secret = gantry_json_string(doc, path, NULL);
	gantry_secret_add(secret);
	snprintf(path, sizeof(path), "%s.Credentials.SessionToken", result);
	token = gantry_json_string(doc, path, NULL);
	gantry_secret_add(token);
	snprintf(path, sizeof(path), "%s.Credentials.AccessKeyId", result);
	akid = gantry_json_string(doc, path, NULL);
	snprintf(path, sizeof(path), "%s.Credentials.Expiration", result);
	exp = gantry_json_string(doc, path, NULL);
	if (!akid || !secret)
		return aws_i_fail(aws, GANTRY_EFAIL, "",
				  "the answer holds no credentials");
	creds_set(out, akid, secret, token, aws_i_parse_time(exp));
	return 0;
}

static int assume_role(struct gantry_aws *aws, const struct aws_creds *with,
		       const char *role, const char *external_id,
		       const char *session, struct aws_creds *out)
{
	const char *params[] = { "RoleArn", role, "RoleSessionName", session,
				 external_id ? "ExternalId" : NULL,
				 external_id, NULL };
	struct gantry_json *doc;
	int rc;

	gantry_debug(aws->ctx, "aws: assuming %s", role);
	rc = aws_i_query(aws, "sts", "AssumeRole", with, params, &doc);
	if (!rc)
		rc = take_sts(aws, doc, "AssumeRoleResult", out);
	gantry_json_free(doc);
	return rc;
}

/* AssumeRoleWithWebIdentity is unsigned: the token is the proof. */
static int web_identity(struct gantry_aws *aws, const char *token_file,
			const char *role, const char *session,
			struct aws_creds *out)
{
	const char *params[] = { "RoleArn", role, "RoleSessionName", session,
				 "WebIdentityToken", NULL, NULL };
	struct gantry_json *doc;
	char *token;
	int rc;

	aws_i_begin(aws, "sts", "AssumeRoleWithWebIdentity");
	token = gantry_i_read_file(token_file, CREDS_FILE_MAX);
	if (!token)
		return aws_i_fail(aws, GANTRY_ECONFIG, "",
				  "cannot read the web identity token file "
				  "'%s': %s", token_file, strerror(errno));
	params[5] = trim(token);
	gantry_secret_add(params[5]);
	rc = aws_i_query(aws, "sts", "AssumeRoleWithWebIdentity", NULL,
			 params, &doc);
	if (!rc)
		rc = take_sts(aws, doc, "AssumeRoleWithWebIdentityResult",
			      out);
	gantry_json_free(doc);
	free(token);
	return rc;
}

/*
 * The links of the chain: each returns 0 with out set, 1 when it does
 * not apply, or a negative code with the error recorded.
 */

static int from_env(struct aws_creds *out)
{
	const char *akid = env("AWS_ACCESS_KEY_ID");
	const char *secret = env("AWS_SECRET_ACCESS_KEY");

	if (!akid || !secret)
		return 1;
	creds_set(out, akid, secret, env("AWS_SESSION_TOKEN"), 0);
	return 0;
}

static int from_web_identity(struct gantry_aws *aws, struct aws_creds *out)
{
	const char *file = env("AWS_WEB_IDENTITY_TOKEN_FILE");
	const char *role = env("AWS_ROLE_ARN");
	const char *session = env("AWS_ROLE_SESSION_NAME");

	if (!file || !role)
		return 1;
	return web_identity(aws, file, role,
			    session ? session : aws->session_name, out);
}

static int static_keys(const struct ini *ini, const char *name,
		       struct aws_creds *out)
{
	const char *akid = ini_get(ini, name, "aws_access_key_id");
	const char *secret = ini_get(ini, name, "aws_secret_access_key");

	if (!akid || !secret)
		return 1;
	creds_set(out, akid, secret, ini_get(ini, name, "aws_session_token"),
		  0);
	return 0;
}

static int from_profile(struct gantry_aws *aws, const struct ini *ini,
			const char *name, int depth, struct aws_creds *out)
{
	const char *role = ini_get(ini, name, "role_arn");
	const char *source = ini_get(ini, name, "source_profile");
	const char *file = ini_get(ini, name, "web_identity_token_file");
	const char *session = ini_get(ini, name, "role_session_name");
	struct aws_creds base = { 0 };
	int rc;

	if (!ini_has(ini, name))
		return 1;
	if (!role)
		return static_keys(ini, name, out);
	if (!session)
		session = aws->session_name;
	if (!source && file)
		return web_identity(aws, file, role, session, out);
	if (!source)
		return aws_i_fail(aws, GANTRY_ECONFIG, "",
				  "AWS profile '%s' has role_arn but neither "
				  "source_profile nor web_identity_token_file",
				  name);
	if (depth >= PROFILE_MAX_DEPTH)
		return aws_i_fail(aws, GANTRY_ECONFIG, "",
				  "AWS profile '%s': the source_profile chain "
				  "is too long (a loop?)", name);
	/* A profile may name itself: its own keys assume its role. */
	rc = strcmp(source, name) ?
		from_profile(aws, ini, source, depth + 1, &base) :
		static_keys(ini, name, &base);
	if (rc > 0)
		rc = aws_i_fail(aws, GANTRY_ECONFIG, "",
				"AWS profile '%s': source_profile '%s' has "
				"no credentials", name, source);
	if (!rc)
		rc = assume_role(aws, &base, role,
				 ini_get(ini, name, "external_id"), session,
				 out);
	aws_i_creds_clear(&base);
	return rc;
}

static int from_files(struct gantry_aws *aws, struct aws_creds *out)
{
	const char *name = profile_name();
	struct ini ini;
	int rc;

	ini_open(&ini);
	rc = from_profile(aws, &ini, name ? name : "default", 0, out);
	if (rc > 0 && name && !ini_has(&ini, name))
		rc = aws_i_fail(aws, GANTRY_ECONFIG, "",
				"AWS profile '%s' (AWS_PROFILE) is in neither "
				"%s nor %s", name, ini.cred_path,
				ini.config_path);
	ini_close(&ini);
	return rc;
}

static int from_container(struct gantry_aws *aws, struct aws_creds *out)
{
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *token_file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	struct gantry_json *doc = NULL;
	struct gantry_http *req;
	char *url, *token = NULL;
	const char *body;
	size_t len;
	int rc;

	if (!rel && !full)
		return 1;
	aws_i_begin(aws, "container-credentials", "GET");
	url = rel ? gantry_xasprintf("%s%s", CONTAINER_HOST, rel) :
		gantry_xstrdup(full);
	if (token_file && !(token = gantry_i_read_file(token_file,
						       CREDS_FILE_MAX))) {
		rc = aws_i_fail(aws, GANTRY_ECONFIG, "",
				"cannot read AWS_CONTAINER_AUTHORIZATION_"
				"TOKEN_FILE '%s': %s", token_file,
				strerror(errno));
		free(url);
		return rc;
	}
	if (!token && env("AWS_CONTAINER_AUTHORIZATION_TOKEN"))
		token = gantry_xstrdup(env("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
	req = gantry_http_new("GET", url);
	if (token) {
		gantry_secret_add(trim(token));
		gantry_http_header(req, "Authorization", trim(token));
	}
	gantry_http_timeout_ms(req, aws->timeout_ms);
	rc = gantry_http_perform(req, aws->ctx);
	body = gantry_http_response(req, &len);
	if (rc)
		rc = aws_i_fail(aws, rc, "", "cannot get container "
				"credentials: %s", gantry_http_error(req));
	else if (gantry_http_status(req) != 200)
		rc = aws_i_fail(aws, GANTRY_EFAIL, "", "cannot get container "
				"credentials: %s answered HTTP status %ld",
				url, gantry_http_status(req));
	else if (!(doc = gantry_json_parse(body, len, NULL, 0)) ||
		 !gantry_json_string(doc, "AccessKeyId", NULL) ||
		 !gantry_json_string(doc, "SecretAccessKey", NULL))
		rc = aws_i_fail(aws, GANTRY_EFAIL, "", "cannot get container "
				"credentials: %s answered no credentials",
				url);
	else
		creds_set(out, gantry_json_string(doc, "AccessKeyId", NULL),
			  gantry_json_string(doc, "SecretAccessKey", NULL),
			  gantry_json_string(doc, "Token", NULL),
			  aws_i_parse_time(gantry_json_string(
				  doc, "Expiration", NULL)));
	gantry_json_free(doc);
	gantry_http_free(req);
	free(token);
	free(url);
	return rc;
}

static int chain(struct gantry_aws *aws, struct aws_creds *out)
{
	int rc;

	if ((rc = from_env(out)) <= 0)
		return rc;
	if ((rc = from_web_identity(aws, out)) <= 0)
		return rc;
	if ((rc = from_files(aws, out)) <= 0)
		return rc;
	if ((rc = from_container(aws, out)) <= 0)
		return rc;
	return aws_i_fail(aws, GANTRY_ECONFIG, "",
			  "no AWS credentials: set AWS_PROFILE or "
			  "AWS_ACCESS_KEY_ID (or provide web identity or "
			  "container credentials)");
}

int aws_i_creds(struct gantry_aws *aws)
{
	int rc;

	if (usable(&aws->creds))
		return 0;
	if (!usable(&aws->base)) {
		aws_i_creds_clear(&aws->base);
		if ((rc = chain(aws, &aws->base)))
			return rc;
	}
	if (!aws->role_arn) {
		creds_set(&aws->creds, aws->base.akid, aws->base.secret,
			  aws->base.token, aws->base.expires);
		return 0;
	}
	return assume_role(aws, &aws->base, aws->role_arn, aws->external_id,
			   aws->session_name, &aws->creds);
}
