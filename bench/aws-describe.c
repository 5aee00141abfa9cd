/*
 * aws-describe.c - times N ecs DescribeServices calls through libgantry's
 * AWS client (one client: signing, connection reuse, JSON parsing), after
 * creating the cluster's service once.  Prints one line per call:
 * "<milliseconds>".  Used by bench/aws.py; needs the sandbox's env.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <gantry/gantry.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 100, i;
	struct gantry_aws *aws = gantry_aws_new(NULL);
	struct gantry_json *out = NULL;

	if (gantry_aws_json(aws, "ecs", "RegisterTaskDefinition",
			    "{\"family\":\"bench\",\"containerDefinitions\":"
			    "[{\"name\":\"app\",\"image\":\"app:1\"}]}", &out) < 0 ||
	    (gantry_json_free(out), gantry_aws_json(aws, "ecs", "CreateService",
			    "{\"cluster\":\"bench\",\"serviceName\":\"api\","
			    "\"taskDefinition\":\"bench\",\"desiredCount\":2}",
			    &out)) < 0) {
		fprintf(stderr, "setup: %s\n", gantry_aws_error_line(aws));
		return 1;
	}
	gantry_json_free(out);
	for (i = 0; i < n; i++) {
		double t0 = now_ms();

		if (gantry_aws_json(aws, "ecs", "DescribeServices",
				    "{\"cluster\":\"bench\",\"services\":[\"api\"]}",
				    &out) < 0) {
			fprintf(stderr, "call %d: %s\n", i,
				gantry_aws_error_line(aws));
			return 1;
		}
		printf("%.3f\n", now_ms() - t0);
		gantry_json_free(out);
	}
	gantry_aws_free(aws);
	return 0;
}
