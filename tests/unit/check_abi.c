/*
 * check_abi.c - pins the plugin ABI: sizes, offsets and values plugins
 * are compiled against.
 *
 * A failure here means a change that breaks every plugin already built.
 * Do not "fix" the numbers: append fields instead, bump GANTRY_ABI_MINOR
 * and log it in gantry/stage.h.  Offsets are pinned for LP64 (the
 * platforms gantry is built and tested on); elsewhere only the
 * pointer-size-independent facts are checked.
 */
#include "config.h"

#include <check.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

START_TEST(header_layout_is_frozen)
{
	ck_assert_uint_eq(sizeof(struct gantry_abi_header), 16);
	ck_assert_uint_eq(offsetof(struct gantry_abi_header, magic), 0);
	ck_assert_uint_eq(offsetof(struct gantry_abi_header, major), 4);
	ck_assert_uint_eq(offsetof(struct gantry_abi_header, minor), 6);
	ck_assert_uint_eq(offsetof(struct gantry_abi_header, size), 8);
	ck_assert_uint_eq(offsetof(struct gantry_abi_header, reserved), 12);
	ck_assert_uint_eq(offsetof(struct gantry_stage, header), 0);
}
END_TEST

START_TEST(magic_and_versions)
{
	static const struct gantry_abi_header h = { .magic = GANTRY_ABI_MAGIC };
	const unsigned char *bytes = (const unsigned char *)&h.magic;
	static const union { uint32_t u; unsigned char c[4]; } probe = { .u = 1 };

	ck_assert_uint_eq(GANTRY_ABI_MAGIC, 0x52544e47u);
	/* "GNTR" in memory on little-endian machines. */
	if (probe.c[0] == 1)
		ck_assert(!memcmp(bytes, "GNTR", 4));
	ck_assert_int_eq(GANTRY_ABI_MAJOR, 1);
	ck_assert_int_ge(GANTRY_ABI_MINOR, 0);
	ck_assert_str_eq(GANTRY_STAGE_ENTRY_SYMBOL, "gantry_stage_entry");
}
END_TEST

START_TEST(stage_layout_lp64)
{
#if __SIZEOF_POINTER__ == 8
	ck_assert_uint_eq(offsetof(struct gantry_stage, name), 16);
	ck_assert_uint_eq(offsetof(struct gantry_stage, version), 24);
	ck_assert_uint_eq(offsetof(struct gantry_stage, summary), 32);
	ck_assert_uint_eq(offsetof(struct gantry_stage, kind), 40);
	ck_assert_uint_eq(offsetof(struct gantry_stage, options), 48);
	ck_assert_uint_eq(offsetof(struct gantry_stage, init), 56);
	ck_assert_uint_eq(offsetof(struct gantry_stage, plan), 64);
	ck_assert_uint_eq(offsetof(struct gantry_stage, run), 72);
	ck_assert_uint_eq(offsetof(struct gantry_stage, rollback), 80);
	ck_assert_uint_eq(offsetof(struct gantry_stage, fini), 88);
	ck_assert_uint_eq(offsetof(struct gantry_stage, event), 96);
	ck_assert_uint_eq(GANTRY_STAGE_SIZE_1_0, 104);
#if GANTRY_ABI_MINOR == 0
	ck_assert_uint_eq(sizeof(struct gantry_stage), 104);
#endif
	/* 1.1 */
	ck_assert_uint_eq(offsetof(struct gantry_stage, option_rules), 104);
	ck_assert_uint_eq(offsetof(struct gantry_stage, option_rule_size),
			  112);
#if GANTRY_ABI_MINOR >= 1
	ck_assert_uint_eq(sizeof(struct gantry_stage), 120);
#endif
	/* The option rule: 1.1's fields, then 1.2's appended (a 1.1
	   plugin's table has 40-byte elements; the core reads a rule by
	   the descriptor's option_rule_size). */
	ck_assert_uint_eq(offsetof(struct gantry_option_rule, key), 0);
	ck_assert_uint_eq(offsetof(struct gantry_option_rule, bounds), 8);
	ck_assert_uint_eq(offsetof(struct gantry_option_rule, min), 16);
	ck_assert_uint_eq(offsetof(struct gantry_option_rule, max), 24);
	ck_assert_uint_eq(offsetof(struct gantry_option_rule, choices), 32);
	ck_assert_uint_eq(GANTRY_OPTION_RULE_SIZE_1_1, 40);
	ck_assert_uint_eq(offsetof(struct gantry_option_rule, decimal_min),
			  40);
	ck_assert_uint_eq(offsetof(struct gantry_option_rule, decimal_max),
			  48);
	ck_assert_uint_eq(offsetof(struct gantry_option_rule,
				   decimal_places), 56);
	ck_assert_uint_eq(offsetof(struct gantry_option_rule, when), 64);
	ck_assert_uint_eq(offsetof(struct gantry_option_rule, when_values),
			  72);
	ck_assert_uint_eq(GANTRY_OPTION_RULE_SIZE_1_2, 80);
#if GANTRY_ABI_MINOR == 2
	ck_assert_uint_eq(sizeof(struct gantry_option_rule), 80);
#endif
#endif
}
END_TEST

START_TEST(stage_size_rules)
{
	struct gantry_stage d;

	/* On 1.0 the descriptor is exactly the 1.0 fields; later minors
	   only ever grow it. */
#if GANTRY_ABI_MINOR == 0
	ck_assert_uint_eq(GANTRY_STAGE_SIZE_1_0, sizeof(struct gantry_stage));
#endif
	ck_assert_uint_ge(sizeof(struct gantry_stage), GANTRY_STAGE_SIZE_1_0);
	memset(&d, 0, sizeof(d));
	d.header.size = (uint32_t)GANTRY_STAGE_SIZE_1_0;
	ck_assert(GANTRY_STAGE_HAS_FIELD(&d, event));
	ck_assert(GANTRY_STAGE_HAS_FIELD(&d, name));
	ck_assert(!GANTRY_STAGE_HAS_FIELD(&d, option_rules));
	ck_assert(!GANTRY_STAGE_HAS_FIELD(&d, option_rule_size));
	d.header.size = (uint32_t)offsetof(struct gantry_stage, event);
	ck_assert(!GANTRY_STAGE_HAS_FIELD(&d, event));
	ck_assert(GANTRY_STAGE_HAS_FIELD(&d, fini));
	d.header.size = (uint32_t)sizeof(struct gantry_stage);
	ck_assert(GANTRY_STAGE_HAS_FIELD(&d, option_rules));
	ck_assert(GANTRY_STAGE_HAS_FIELD(&d, option_rule_size));
}
END_TEST

START_TEST(header_macro_fills_versions)
{
	static const struct gantry_stage d = { GANTRY_STAGE_HEADER };

	ck_assert_uint_eq(d.header.magic, GANTRY_ABI_MAGIC);
	ck_assert_uint_eq(d.header.major, GANTRY_ABI_MAJOR);
	ck_assert_uint_eq(d.header.minor, GANTRY_ABI_MINOR);
	ck_assert_uint_eq(d.header.size, sizeof(struct gantry_stage));
	ck_assert_uint_eq(d.header.reserved, 0);
	ck_assert_uint_eq(d.option_rule_size,
			  sizeof(struct gantry_option_rule));
}
END_TEST

START_TEST(option_layout)
{
#if __SIZEOF_POINTER__ == 8
	ck_assert_uint_eq(offsetof(struct gantry_option, key), 0);
	ck_assert_uint_eq(offsetof(struct gantry_option, type), 8);
	ck_assert_uint_eq(offsetof(struct gantry_option, flags), 12);
	ck_assert_uint_eq(offsetof(struct gantry_option, def), 16);
	ck_assert_uint_eq(offsetof(struct gantry_option, help), 24);
	ck_assert_uint_eq(sizeof(struct gantry_option), 32);
#endif
	ck_assert_uint_eq(sizeof(enum gantry_option_type), sizeof(int));
	ck_assert_uint_ge(sizeof(struct gantry_option_rule),
			  GANTRY_OPTION_RULE_SIZE_1_1);
#if __SIZEOF_POINTER__ == 8
	/* The rule element of 1.1: only ever appended to. */
	ck_assert_uint_eq(offsetof(struct gantry_option_rule, key), 0);
	ck_assert_uint_eq(offsetof(struct gantry_option_rule, bounds), 8);
	ck_assert_uint_eq(offsetof(struct gantry_option_rule, min), 16);
	ck_assert_uint_eq(offsetof(struct gantry_option_rule, max), 24);
	ck_assert_uint_eq(offsetof(struct gantry_option_rule, choices), 32);
	ck_assert_uint_eq(GANTRY_OPTION_RULE_SIZE_1_1, 40);
#endif
	ck_assert_uint_eq(sizeof(enum gantry_result), sizeof(int));
}
END_TEST

START_TEST(enum_and_flag_values)
{
	ck_assert_int_eq(GANTRY_OPT_STRING, 1);
	ck_assert_int_eq(GANTRY_OPT_INT, 2);
	ck_assert_int_eq(GANTRY_OPT_BOOL, 3);
	ck_assert_int_eq(GANTRY_OPT_LIST, 4);
	ck_assert_int_eq(GANTRY_OPT_GROUP, 5);

	ck_assert_uint_eq(GANTRY_OPT_REQUIRED, 0x1u);
	ck_assert_uint_eq(GANTRY_OPT_SECRET, 0x2u);
	ck_assert_uint_eq(GANTRY_KIND_STAGE, 0x1u);
	ck_assert_uint_eq(GANTRY_KIND_NOTIFIER, 0x2u);
	ck_assert_uint_eq(GANTRY_BOUND_MIN, 0x1u);
	ck_assert_uint_eq(GANTRY_BOUND_MAX, 0x2u);

	ck_assert_int_eq(GANTRY_OK, 0);
	ck_assert_int_eq(GANTRY_EFAIL, -1);
	ck_assert_int_eq(GANTRY_EROLLED_BACK, -2);
	ck_assert_int_eq(GANTRY_EROLLBACK_FAILED, -3);
	ck_assert_int_eq(GANTRY_ETIMEOUT, -4);
	ck_assert_int_eq(GANTRY_EINTERRUPTED, -5);
	ck_assert_int_eq(GANTRY_ECONFIG, -6);
}
END_TEST

static Suite *abi_suite(void)
{
	Suite *s = suite_create("abi");
	TCase *tc = tcase_create("layout");

	tcase_add_test(tc, header_layout_is_frozen);
	tcase_add_test(tc, magic_and_versions);
	tcase_add_test(tc, stage_layout_lp64);
	tcase_add_test(tc, stage_size_rules);
	tcase_add_test(tc, header_macro_fills_versions);
	tcase_add_test(tc, option_layout);
	tcase_add_test(tc, enum_and_flag_values);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(abi_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
