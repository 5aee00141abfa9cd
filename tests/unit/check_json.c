/*
 * check_json.c - JSON documents: parsing and its errors, paths, typed
 * getters, arrays, object iteration, builders, serialisation.
 */
#include "config.h"

#include <check.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char doc_text[] =
	"{\n"
	"  \"services\": [\n"
	"    { \"serviceName\": \"api\", \"deployments\": [\n"
	"        { \"id\": \"d-1\", \"rolloutState\": \"COMPLETED\" },\n"
	"        { \"id\": \"d-2\", \"rolloutState\": \"IN_PROGRESS\",\n"
	"          \"runningCount\": 2, \"ratio\": 0.5, \"ok\": true,\n"
	"          \"gone\": null } ] }\n"
	"  ],\n"
	"  \"url\": \"http://x/y\"\n"
	"}\n";

static struct gantry_json *parse(const char *text)
{
	char err[128];
	struct gantry_json *j = gantry_json_parse(text, strlen(text), err,
						  sizeof(err));

	ck_assert_msg(j != NULL, "parse failed: %s", err);
	return j;
}

START_TEST(paths_reach_nested_values)
{
	struct gantry_json *j = parse(doc_text);

	ck_assert_int_eq(gantry_json_type(j), GANTRY_JSON_OBJECT);
	ck_assert_str_eq(gantry_json_string(j,
		"services[0].deployments[1].rolloutState", NULL),
		"IN_PROGRESS");
	ck_assert_str_eq(gantry_json_string(j, "services[0].serviceName",
					    NULL), "api");
	ck_assert_int_eq(gantry_json_int(j,
		"services[0].deployments[1].runningCount", -1), 2);
	ck_assert(gantry_json_double(j, "services[0].deployments[1].ratio",
				     0) == 0.5);
	ck_assert(gantry_json_double(j,
		"services[0].deployments[1].runningCount", 0) == 2.0);
	ck_assert_int_eq(gantry_json_bool(j, "services[0].deployments[1].ok",
					  0), 1);

	/* Absent, out of range, wrong type, malformed: the default. */
	ck_assert_str_eq(gantry_json_string(j, "services[1].serviceName",
					    "none"), "none");
	ck_assert_str_eq(gantry_json_string(j, "services[0].nope", "d"), "d");
	ck_assert_int_eq(gantry_json_int(j, "url", 7), 7);
	ck_assert_str_eq(gantry_json_string(j,
		"services[0].deployments[1].runningCount", "s"), "s");
	ck_assert_ptr_null(gantry_json_get(j, "services[x]"));
	ck_assert_ptr_null(gantry_json_get(j, "services.[0]"));
	ck_assert_ptr_null(gantry_json_get(j, "services[0]serviceName"));
	ck_assert_ptr_null(gantry_json_get(j, "url."));
	ck_assert_ptr_null(gantry_json_get(j,
		"services[0].deployments[1].gone.deeper"));
	ck_assert_int_eq(gantry_json_type(gantry_json_get(j,
		"services[0].deployments[1].gone")), GANTRY_JSON_NULL);

	/* A value found by path serves as a root for more paths. */
	ck_assert_str_eq(gantry_json_string(gantry_json_get(j,
		"services[0].deployments[0]"), "id", NULL), "d-1");
	ck_assert_ptr_eq(gantry_json_get(j, NULL), j);
	gantry_json_free(j);
}
END_TEST

START_TEST(arrays_and_objects_iterate)
{
	struct gantry_json *j = parse("{\"z\": 1, \"a\": [10, 20, 30], "
				      "\"m\": {\"k\": \"v\"}}");
	struct gantry_json *arr = gantry_json_get(j, "a");
	size_t i;

	ck_assert_int_eq(gantry_json_type(arr), GANTRY_JSON_ARRAY);
	ck_assert_uint_eq(gantry_json_length(arr), 3);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(gantry_json_int(gantry_json_at(arr, i), NULL,
						 0), 10 * (long long)(i + 1));
	ck_assert_ptr_null(gantry_json_at(arr, 3));
	ck_assert_uint_eq(gantry_json_length(j), 0);

	/* Insertion order, as written. */
	ck_assert_uint_eq(gantry_json_keys(j), 3);
	ck_assert_str_eq(gantry_json_key_at(j, 0), "z");
	ck_assert_str_eq(gantry_json_key_at(j, 1), "a");
	ck_assert_str_eq(gantry_json_key_at(j, 2), "m");
	ck_assert_ptr_eq(gantry_json_value_at(j, 1), arr);
	ck_assert_str_eq(gantry_json_string(gantry_json_value_at(j, 2), "k",
					    NULL), "v");
	ck_assert_ptr_null(gantry_json_key_at(j, 3));
	ck_assert_uint_eq(gantry_json_keys(arr), 0);
	gantry_json_free(j);
}
END_TEST

START_TEST(builders_make_documents)
{
	struct gantry_json *doc = gantry_json_new_object();
	struct gantry_json *blocks, *b, *inner, *arr;
	const char *text;

	gantry_json_set_string(doc, "text", "deploy of v1.2.3 / \"ok\"");
	gantry_json_set_int(doc, "n", 1234567890123LL);
	gantry_json_set_bool(doc, "ok", 1);
	gantry_json_set_null(doc, "nothing");
	gantry_json_set_string(doc, "n2", "first");
	gantry_json_set_string(doc, "n2", "replaced");
	blocks = gantry_json_set_array(doc, "blocks");
	b = gantry_json_push_object(blocks);
	gantry_json_set_string(b, "type", "section");
	gantry_json_push_string(blocks, "plain");
	inner = gantry_json_set_object(doc, "inner");
	gantry_json_set_string(inner, "url", "http://a/b");

	text = gantry_json_text(doc, 0);
	ck_assert_str_eq(text,
		"{\"text\":\"deploy of v1.2.3 / \\\"ok\\\"\","
		"\"n\":1234567890123,\"ok\":true,\"nothing\":null,"
		"\"n2\":\"replaced\",\"blocks\":[{\"type\":\"section\"},"
		"\"plain\"],\"inner\":{\"url\":\"http://a/b\"}}");
	ck_assert(strchr(gantry_json_text(doc, 1), '\n') != NULL);

	/* Builders refuse the wrong container instead of crashing. */
	ck_assert_ptr_null(gantry_json_push_object(doc));
	ck_assert_ptr_null(gantry_json_set_object(blocks, "x"));
	gantry_json_set_string(blocks, "x", "y");
	gantry_json_push_string(doc, "y");
	ck_assert_uint_eq(gantry_json_length(blocks), 2);

	arr = gantry_json_new_array();
	gantry_json_push_string(arr, "a");
	ck_assert_str_eq(gantry_json_text(arr, 0), "[\"a\"]");
	gantry_json_free(arr);

	/* Round trip. */
	b = parse(gantry_json_text(doc, 1));
	ck_assert_int_eq(gantry_json_int(b, "n", 0), 1234567890123LL);
	ck_assert_str_eq(gantry_json_string(b, "blocks[1]", NULL), "plain");
	gantry_json_free(b);
	gantry_json_free(doc);
}
END_TEST

/*
 * Whatever bytes a string holds (an actor, a tag annotation), the text
 * is valid UTF-8: each bad sequence becomes one U+FFFD, control
 * characters are escaped; pretty or not, keys too.
 */
START_TEST(text_is_always_valid_utf8)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "\xff\xfe", "\"\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "caf\xc3\xa9", "\"caf\xc3\xa9\"" },
		{ "caf\xe9!", "\"caf\xef\xbf\xbd!\"" },
		/* A sequence cut short is one bad character. */
		{ "a\xe2\x82z", "\"a\xef\xbf\xbdz\"" },
		{ "\xf0\x9f\x9a\x80", "\"\xf0\x9f\x9a\x80\"" },
		/* Overlong, surrogate, past U+10FFFF. */
		{ "\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" },
		{ "\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
		  "\xef\xbf\xbd\"" },
		{ "\r\033[2Kx\x7f", "\"\\r\\u001b[2Kx\\u007f\"" },
		/* U+009B, the one-byte CSI, escaped like ESC. */
		{ "\xc2\x9b" "1m", "\"\\u009b1m\"" },
		{ "a/b \"q\" \\", "\"a/b \\\"q\\\" \\\\\"" },
	};
	struct gantry_buf b = GANTRY_BUF_INIT;
	struct gantry_json *doc, *arr, *back;
	char err[128];
	size_t i;

	for (i = 0; i < GANTRY_ARRAY_SIZE(cases); i++) {
		gantry_buf_reset(&b);
		gantry_buf_add_json(&b, cases[i].in);
		ck_assert_str_eq(b.buf, cases[i].out);
		arr = gantry_json_new_array();
		gantry_json_push_string(arr, cases[i].in);
		gantry_buf_reset(&b);
		gantry_buf_addf(&b, "[%s]", cases[i].out);
		ck_assert_str_eq(gantry_json_text(arr, 0), b.buf);
		gantry_json_free(arr);
	}
	gantry_buf_release(&b);

	doc = gantry_json_new_object();
	gantry_json_set_string(doc, "actor", "\xff\xfe");
	gantry_json_set_string(doc, "k\xff\033", "v");
	arr = gantry_json_set_array(doc, "notes");
	gantry_json_push_string(arr, "\xc3\x28\x1b]0;title\x07");
	ck_assert_str_eq(gantry_json_text(doc, 0),
		"{\"actor\":\"\xef\xbf\xbd\xef\xbf\xbd\","
		"\"k\xef\xbf\xbd\\u001b\":\"v\","
		"\"notes\":[\"\xef\xbf\xbd(\\u001b]0;title\\u0007\"]}");
	back = gantry_json_parse(gantry_json_text(doc, 1),
				 strlen(gantry_json_text(doc, 1)), err,
				 sizeof(err));
	ck_assert_msg(back != NULL, "%s", err);
	ck_assert_str_eq(gantry_json_string(back, "actor", NULL),
			 "\xef\xbf\xbd\xef\xbf\xbd");
	ck_assert_str_eq(gantry_json_key_at(back, 1), "k\xef\xbf\xbd\033");
	gantry_json_free(back);
	gantry_json_free(doc);

	/* Text that is not UTF-8 is not JSON: refused by the parser (two
	   keys differing only in such bytes would be written back as one
	   duplicate key).  \u0000 is JSON, and is written back escaped. */
	{
		static const char bad[] = "{\"k\xff\": 1, \"k\xfe\": 2}";
		static const char in[] = "{\"a\": \"x\\u0000y\", \"n\": 1.50}";

		ck_assert_ptr_null(gantry_json_parse(bad, strlen(bad), err,
						     sizeof(err)));
		ck_assert_str_eq(err, "line 1: invalid utf-8 string");
		doc = gantry_json_parse(in, strlen(in), err, sizeof(err));
		ck_assert_msg(doc != NULL, "%s", err);
		ck_assert_str_eq(gantry_json_text(doc, 0),
				 "{\"a\":\"x\\u0000y\",\"n\":1.50}");
		gantry_json_free(doc);
	}
}
END_TEST

/* The layout is json-c's, byte for byte: documents and the tests that
   read them do not change. */
START_TEST(text_layout_unchanged)
{
	static const char in[] =
		"{\"a\": [1, {\"b\": true}, [], {}], \"c\": null, \"d\": \"e\"}";
	struct gantry_json *doc = parse(in);

	ck_assert_str_eq(gantry_json_text(doc, 0),
		"{\"a\":[1,{\"b\":true},[],{}],\"c\":null,\"d\":\"e\"}");
	ck_assert_str_eq(gantry_json_text(doc, 1),
		"{\n  \"a\": [\n    1,\n    {\n      \"b\": true\n    },\n"
		"    [\n    ],\n    {\n    }\n  ],\n  \"c\": null,\n  \"d\": \"e\"\n}");
	ck_assert_str_eq(gantry_json_text(gantry_json_get(doc, "a[1]"), 0),
			 "{\"b\":true}");
	gantry_json_free(doc);

	/* The core's flags, against json-c itself (on a copy: once
	   written by gantry, a value stays gantry's). */
	{
		static const int flags[] = {
			JSON_C_TO_STRING_PLAIN, JSON_C_TO_STRING_SPACED,
			JSON_C_TO_STRING_PRETTY,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_PRETTY_TAB,
		};
		static const char more[] =
			"{\"a\": [1, -2.5e3, {\"b\": true, \"x\": [\"y\"]}, [], {}],"
			" \"c\": null, \"d\": \"e\", \"f\": {}, \"g\": 1e400}";
		size_t i;

		for (i = 0; i < GANTRY_ARRAY_SIZE(flags); i++) {
			json_object *ours = json_tokener_parse(more);
			json_object *theirs = json_tokener_parse(more);
			int f = flags[i] | JSON_C_TO_STRING_NOSLASHESCAPE;

			ck_assert_str_eq(gantry_i_json_text(ours, f),
				json_object_to_json_string_ext(theirs, f));
			json_object_put(ours);
			json_object_put(theirs);
		}
	}
}
END_TEST

/*
 * What the core builds its documents with: every kind of value set or
 * pushed, documents moved into others (and freed with them: valgrind
 * sees no leak), and the layouts its files have always had.
 */
START_TEST(builders_cover_the_core)
{
	struct gantry_json *doc = gantry_json_new_object();
	struct gantry_json *arr, *sub, *kid;
	static const int layouts[] = {
		0, GANTRY_I_JSON_SPACED, GANTRY_I_JSON_PRETTY,
		GANTRY_I_JSON_PRETTY | GANTRY_I_JSON_SPACED,
	};
	static const int flags[] = {
		JSON_C_TO_STRING_PLAIN, JSON_C_TO_STRING_SPACED,
		JSON_C_TO_STRING_PRETTY,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED,
	};
	size_t i;

	gantry_json_set_double(doc, "d", 2.5);
	gantry_i_json_set_number(doc, "t", 1700000000.1, "1700000000.100");
	arr = gantry_json_set_array(doc, "a");
	gantry_json_push_int(arr, -7);
	gantry_json_push_double(arr, 0.5);
	gantry_json_push_bool(arr, 2);
	gantry_json_push_null(arr);
	gantry_json_push_string(gantry_json_push_array(arr), "in");
	sub = gantry_json_new_object();
	gantry_json_set_string(sub, "k", "v");
	gantry_json_set_json(doc, "moved", sub);
	kid = gantry_json_new_array();
	gantry_json_push_int(kid, 1);
	gantry_json_push_json(arr, kid);
	gantry_json_set_json(doc, "none", NULL);
	/* Refused moves free the document instead of leaking it. */
	gantry_json_set_json(arr, "x", gantry_json_new_object());
	gantry_json_push_json(doc, gantry_json_new_array());

	ck_assert_str_eq(gantry_json_text(doc, 0),
		"{\"d\":2.5,\"t\":1700000000.100,"
		"\"a\":[-7,0.5,true,null,[\"in\"],[1]],"
		"\"moved\":{\"k\":\"v\"},\"none\":null}");
	ck_assert(gantry_json_double(doc, "t", 0) > 1700000000.0);
	ck_assert_str_eq(gantry_json_string(doc, "moved.k", NULL), "v");
	ck_assert_int_eq(gantry_json_int(doc, "a[5][0]", 0), 1);

	/* gantry_json_text(j, 1) is PRETTY | SPACED; every layout is
	   json-c's own for the same flags. */
	ck_assert_str_eq(gantry_json_text(doc, 1),
			 gantry_i_json_text_ex(doc, GANTRY_I_JSON_PRETTY |
					       GANTRY_I_JSON_SPACED));
	for (i = 0; i < GANTRY_ARRAY_SIZE(layouts); i++) {
		static const char in[] =
			"{\"a\": [1, {\"b\": true}, [], {}], \"c\": null}";
		struct gantry_json *ours = parse(in);
		json_object *theirs = json_tokener_parse(in);

		ck_assert_str_eq(gantry_i_json_text_ex(ours, layouts[i]),
			json_object_to_json_string_ext(theirs, flags[i] |
				JSON_C_TO_STRING_NOSLASHESCAPE));
		gantry_json_free(ours);
		json_object_put(theirs);
	}
	gantry_json_free(doc);
}
END_TEST

START_TEST(parse_errors_name_the_line)
{
	char err[128];
	const char *bad = "{\n  \"a\": 1,\n  \"b\": tru\n}";

	ck_assert_ptr_null(gantry_json_parse(bad, strlen(bad), err,
					     sizeof(err)));
	ck_assert_msg(!strncmp(err, "line 3: ", 8), "got '%s'", err);

	ck_assert_ptr_null(gantry_json_parse("{\"a\": [1, 2", 11, err,
					     sizeof(err)));
	ck_assert_str_eq(err, "line 1: unexpected end of input");

	ck_assert_ptr_null(gantry_json_parse("{}\n\n{}", 6, err,
					     sizeof(err)));
	ck_assert_str_eq(err, "line 3: unexpected text after the document");

	ck_assert_ptr_null(gantry_json_parse("", 0, err, sizeof(err)));
	ck_assert_str_eq(err, "line 1: unexpected end of input");

	/* err may be NULL. */
	ck_assert_ptr_null(gantry_json_parse("[", 1, NULL, 0));
	/* Only len bytes count. */
	{
		struct gantry_json *j = gantry_json_parse("[1]garbage", 3,
							  err, sizeof(err));

		ck_assert_ptr_nonnull(j);
		ck_assert_uint_eq(gantry_json_length(j), 1);
		gantry_json_free(j);
	}
}
END_TEST

START_TEST(deep_documents_parse)
{
	struct gantry_buf b = GANTRY_BUF_INIT;
	struct gantry_json *j;
	int i;

	/* Terraform plans nest deeper than json-c's default limit of 32. */
	for (i = 0; i < 100; i++)
		gantry_buf_adds(&b, "[");
	for (i = 0; i < 100; i++)
		gantry_buf_adds(&b, "]");
	j = parse(b.buf);
	gantry_json_free(j);
	gantry_buf_release(&b);
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, paths_reach_nested_values);
	tcase_add_test(tc, arrays_and_objects_iterate);
	tcase_add_test(tc, builders_make_documents);
	tcase_add_test(tc, builders_cover_the_core);
	tcase_add_test(tc, parse_errors_name_the_line);
	tcase_add_test(tc, text_is_always_valid_utf8);
	tcase_add_test(tc, text_layout_unchanged);
	tcase_add_test(tc, deep_documents_parse);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(json_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
