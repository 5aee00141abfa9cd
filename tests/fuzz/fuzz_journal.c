/*
 * fuzz_journal.c - the journal reader (core/journal_record.c): every command
 * that reads history trusts deploy_record_from_json with whatever a
 * crash, a disk problem or a person left in the state directory.
 *
 * Input: a record file.  A record that reads must render, and what it
 * renders must read back and render the same (the journal is rewritten
 * at every stage boundary of a resumed deploy).
 */
#include "config.h"

#include "fuzz.h"

#include "journal.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	gantry_i_log_setup(-1, 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_string(data, size), *once, *twice;
	struct deploy_record r, again;
	struct errs e = { 0 };

	if (deploy_record_from_json(&r, in, "fuzz.json", &e) < 0) {
		if (e.n != 1)
			abort();	/* exactly one line says why */
		errs_clear(&e);
		free(in);
		return 0;
	}
	if (e.n)
		abort();
	(void)deploy_record_stage(&r, "build");
	once = deploy_record_to_json(&r, 1);
	if (deploy_record_from_json(&again, once, "again.json", &e) < 0) {
		fprintf(stderr, "fuzz_journal: own record does not read "
			"back: %s\n%s\n", e.msg[0], once);
		abort();
	}
	twice = deploy_record_to_json(&again, 1);
	if (strcmp(once, twice)) {
		fprintf(stderr, "fuzz_journal: record changed on a round "
			"trip\n%s\n%s\n", once, twice);
		abort();
	}
	free(once);
	free(twice);
	deploy_record_release(&again);
	deploy_record_release(&r);
	free(in);
	return 0;
}
