/*
 * fuzz_tfplan.c - what the terraform stage reads back from terraform
 * (plugins/terraform/tfread.c): the `show -json` plan summariser with
 * the destroy guard, and the `output -json` publisher.
 *
 * tfread.c is compiled into this file, and the command runner it calls
 * (tfcmd.c) is replaced by a stand-in that "prints" the input: the same
 * bytes go through both readers, since each looks at its own keys.
 */
#include "config.h"

#include "fuzz.h"

#include "../../plugins/terraform/tfread.c"

static const char *fuzz_out;

void tf_args_add(struct tf_args *a, const char *arg)
{
	(void)arg;
	a->n++;
}

void tf_args_free(struct tf_args *a)
{
	memset(a, 0, sizeof(*a));
}

int tf_must(struct tf_job *job, const char *what, struct tf_args *args,
	    unsigned flags, struct tf_result *res)
{
	memset(res, 0, sizeof(*res));
	res->ctx = job->ctx;
	res->flags = flags;
	res->out = strdup(fuzz_out);
	if (!res->out)
		abort();
	return GANTRY_OK;
}

void tf_result_clear(struct tf_result *res)
{
	free(res->out);
	memset(res, 0, sizeof(*res));
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	gantry_i_log_setup(-1, 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = fuzz_string(data, size);
	struct tf_job job = { 0 };
	struct tf_summary sum;
	struct gantry_config *allow;
	int plan_lines;

	fuzz_out = in;
	job.ctx = gantry_i_ctx_new("terraform");
	job.binary = "terraform";
	job.workspace = "default";
	job.dir = "infra";
	/* The second pass with allow_replace globs: what they let through
	   is never more than what was to be replaced. */
	allow = gantry_i_config_new(GANTRY_OPT_LIST, "allow_replace", "fuzz");
	gantry_i_config_add(allow, gantry_i_config_scalar(GANTRY_OPT_STRING,
			"", "terraform_data.*", "fuzz"));
	gantry_i_config_add(allow, gantry_i_config_scalar(GANTRY_OPT_STRING,
			"", "*[\"a*\"]", "fuzz"));
	for (plan_lines = 0; plan_lines < 2; plan_lines++) {
		job.allow_replace = plan_lines ? allow : NULL;
		if (tf_summarise(&job, "plan.out", &sum, plan_lines) ==
		    GANTRY_OK) {
			if (sum.add < 0 || sum.change < 0 || sum.replace < 0 ||
			    sum.destroy < 0 || sum.replace_allowed < 0 ||
			    sum.replace_allowed > sum.replace)
				abort();
			(void)tf_guard(&job, 0, &sum);
			(void)tf_guard(&job, 1, &sum);
		}
		free(sum.guarded);
	}
	(void)tf_publish_outputs(&job);
	gantry_i_config_free(allow);
	gantry_i_ctx_free(job.ctx);
	fuzz_reset();
	free(in);
	return 0;
}
