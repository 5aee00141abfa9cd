/*
 * fuzz_awsxml.c - the XML answers of the Query and REST-XML protocols
 * (STS, CloudWatch, S3) as JSON: aws_i_xml_to_json in sdk/lib/aws_xml.c,
 * and the timestamps those answers carry (aws_i_parse_time).
 *
 * Input: an XML document.  What comes back must be a document the JSON
 * reader can walk and serialise.
 */
#include "config.h"

#include "fuzz.h"

#include <gantry/json.h>

#include "aws_internal.h"

static void walk(struct gantry_json *j, int depth)
{
	size_t i;

	(void)gantry_json_string(j, NULL, NULL);
	/* XML_MAX_DEPTH (64) elements, each at most an array and an object
	   (a repeated name) deep. */
	if (depth > 2 * 64 + 2)
		abort();
	for (i = 0; i < gantry_json_length(j); i++)
		walk(gantry_json_at(j, i), depth + 1);
	for (i = 0; i < gantry_json_keys(j); i++)
		walk(gantry_json_value_at(j, i), depth + 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	gantry_i_log_setup(-1, 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[200], *s;
	struct gantry_json *j;

	j = aws_i_xml_to_json((const char *)data, size, err, sizeof(err));
	if (!j) {
		if (!err[0])
			abort();
	} else {
		walk(j, 0);
		(void)gantry_json_text(j, 0);
		(void)gantry_json_string(j,
			"AssumeRoleResult.Credentials.Expiration", NULL);
		(void)aws_i_parse_time(gantry_json_string(j,
			"AssumeRoleResult.Credentials.Expiration", ""));
		gantry_json_free(j);
	}
	s = fuzz_string(data, size > 64 ? 64 : size);
	(void)aws_i_parse_time(s);
	free(s);
	return 0;
}
