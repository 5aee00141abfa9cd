/*
 * fuzz_json.c - the JSON reader every AWS, registry and terraform answer
 * goes through (sdk/lib/json.c): gantry_json_parse, the path getters and
 * the serialiser.
 *
 * Input: a path on the first line ("services[0].deployments[1].id"),
 * the document after it.  Besides not crashing, what gantry writes must
 * be valid UTF-8 without raw control characters and read back as the
 * same document: the journal and --json depend on it.
 */
#include "config.h"

#include "fuzz.h"

#include <gantry/json.h>

/* Paths the stages really ask for, tried on every document. */
static const char *const paths[] = {
	"services[0].deployments[0].rolloutState",
	"authorizationData[0].authorizationToken",
	"errors[0].code", "resource_changes", "change.actions",
	"__type", "message", "SecretString", "a.b[1].c", "[0]", "[0][1]",
	"", ".", "a..b", "a[", "a[x]", "a[-1]", "a[99999999999999999999]",
};

static void walk(struct gantry_json *j, int depth)
{
	size_t i;

	(void)gantry_json_type(j);
	(void)gantry_json_string(j, NULL, NULL);
	(void)gantry_json_int(j, NULL, 0);
	(void)gantry_json_bool(j, NULL, 0);
	(void)gantry_json_double(j, NULL, 0);
	if (depth > 8)
		return;
	for (i = 0; i < gantry_json_length(j) && i < 16; i++)
		walk(gantry_json_at(j, i), depth + 1);
	for (i = 0; i < gantry_json_keys(j) && i < 16; i++) {
		const char *k = gantry_json_key_at(j, i);

		if (!k)
			abort();
		walk(gantry_json_value_at(j, i), depth + 1);
		/* A key without path syntax in it reaches its value. */
		if (!k[0] || strpbrk(k, ".[]"))
			continue;
		if (gantry_json_get(j, k) == NULL &&
		    gantry_json_value_at(j, i) != NULL)
			abort();
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	gantry_i_log_setup(-1, 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_string(data, size), *nl = strchr(in, '\n');
	const char *path = in, *doc = nl ? nl + 1 : "";
	struct gantry_json *j, *again;
	char err[160];
	size_t i, len;

	if (nl)
		*nl = '\0';
	len = size - (size_t)(doc - in);
	if (!nl)
		len = 0;
	j = gantry_json_parse(doc, len, err, sizeof(err));
	if (!j) {
		/* A refusal always says why. */
		if (!err[0])
			abort();
		free(in);
		return 0;
	}
	walk(j, 0);
	(void)gantry_json_get(j, path);
	(void)gantry_json_string(j, path, "");
	(void)gantry_json_int(j, path, 0);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		walk(gantry_json_get(j, paths[i]), 8);
	(void)gantry_json_text(j, 1);
	{
		char *text = strdup(gantry_json_text(j, 0));

		if (!text)
			abort();
		/* Whatever bytes the strings held, the text is UTF-8
		   without a raw control character: journal records and
		   --json output always parse. */
		for (i = 0, len = strlen(text); i < len;) {
			long c;

			i += gantry_i_utf8_next(text + i, len - i, &c);
			if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
				fprintf(stderr, "fuzz_json: not clean UTF-8 "
					"at byte %zu\n%s\n", i, text);
				abort();
			}
		}
		again = gantry_json_parse(text, strlen(text), err,
					  sizeof(err));
		if (!again) {
			fprintf(stderr, "fuzz_json: own output does not "
				"parse: %s\n%s\n", err, text);
			abort();
		}
		if (strcmp(text, gantry_json_text(again, 0))) {
			fprintf(stderr, "fuzz_json: round trip changed\n%s\n"
				"%s\n", text, gantry_json_text(again, 0));
			abort();
		}
		free(text);
		gantry_json_free(again);
	}
	gantry_json_free(j);
	free(in);
	return 0;
}
