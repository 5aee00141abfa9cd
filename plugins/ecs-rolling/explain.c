/*
 * explain.c - why a deployment failed, in the words a human would have
 * gone to look up: the stopped tasks' reasons and exit codes, the last
 * service events and the last log lines of a failing task (awslogs).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ecs.h"

#include "banned.h"

#define TASKS_LOOKED_AT 10
#define LOG_LINES 5
#define REASONS 4

struct reason {
	char *text;
	unsigned count;
};

struct failing {
	char *task_id, *container;	/* the task whose logs we show */
};

static void count_reason(struct reason *r, size_t *n, const char *text)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp(r[i].text, text)) {
			r[i].count++;
			return;
		}
	if (*n < REASONS) {
		r[*n].text = gantry_xstrdup(text);
		r[*n].count = 1;
		(*n)++;
	}
}

/* "Essential container in task exited (app: exit code 1)" */
static void task_reason(struct gantry_buf *b, struct gantry_json *t,
			struct failing *f)
{
	struct gantry_json *cs = gantry_json_get(t, "containers");
	size_t i;
	int open = 0;

	gantry_buf_adds(b, gantry_json_string(t, "stoppedReason", "stopped"));
	for (i = 0; i < gantry_json_length(cs); i++) {
		struct gantry_json *c = gantry_json_at(cs, i);
		long long code = gantry_json_int(c, "exitCode", -1);
		const char *why = gantry_json_string(c, "reason", NULL);

		if (code <= 0 && !why)
			continue;
		gantry_buf_addf(b, "%s%s:", open ? ", " : " (",
			gantry_json_string(c, "name", "?"));
		if (code >= 0)
			gantry_buf_addf(b, " exit code %lld", code);
		if (why)
			gantry_buf_addf(b, " %s", why);
		open = 1;
		if (code > 0 && !f->task_id) {
			const char *arn = gantry_json_string(t, "taskArn", "");
			const char *slash = strrchr(arn, '/');

			f->task_id = gantry_xstrdup(slash ? slash + 1 : arn);
			f->container = gantry_xstrdup(gantry_json_string(c,
								"name", ""));
		}
	}
	if (open)
		gantry_buf_adds(b, ")");
}

static void stopped_tasks(struct ecs *e, const char *dep_id, struct gantry_buf *out,
			  struct failing *f)
{
	struct gantry_json *list = NULL, *desc = NULL, *arns, *tasks;
	struct reason r[REASONS];
	struct gantry_buf b = GANTRY_BUF_INIT;
	size_t i, n = 0, total;

	gantry_buf_adds(&b, "{\"cluster\":");
	gantry_buf_add_json(&b, e->o.cluster);
	gantry_buf_adds(&b, ",\"startedBy\":");
	gantry_buf_add_json(&b, dep_id);
	gantry_buf_adds(&b, ",\"desiredStatus\":\"STOPPED\"}");
	if (gantry_aws_json(e->aws, "ecs", "ListTasks", b.buf, &list)) {
		gantry_warn(e->ctx, "cannot list the stopped tasks: %s",
			    gantry_aws_error_line(e->aws));
		gantry_buf_release(&b);
		return;
	}
	arns = gantry_json_get(list, "taskArns");
	total = gantry_json_length(arns);
	gantry_buf_release(&b);
	if (!total) {
		gantry_buf_adds(out, "; stopped tasks: none");
		gantry_json_free(list);
		return;
	}
	gantry_buf_adds(&b, "{\"cluster\":");
	gantry_buf_add_json(&b, e->o.cluster);
	gantry_buf_adds(&b, ",\"tasks\":[");
	for (i = 0; i < total && i < TASKS_LOOKED_AT; i++) {
		if (i)
			gantry_buf_adds(&b, ",");
		gantry_buf_add_json(&b, gantry_json_string(gantry_json_at(arns, i), NULL,
					       ""));
	}
	gantry_buf_adds(&b, "]}");
	if (gantry_aws_json(e->aws, "ecs", "DescribeTasks", b.buf,
			    &desc)) {
		gantry_warn(e->ctx, "cannot describe the stopped tasks: %s",
			    gantry_aws_error_line(e->aws));
		goto out;
	}
	tasks = gantry_json_get(desc, "tasks");
	for (i = 0; i < gantry_json_length(tasks); i++) {
		struct gantry_buf one = GANTRY_BUF_INIT;

		task_reason(&one, gantry_json_at(tasks, i), f);
		count_reason(r, &n, one.buf);
		gantry_buf_release(&one);
	}
	gantry_buf_addf(out, "; stopped tasks (%zu): ", total);
	for (i = 0; i < n; i++) {
		gantry_buf_addf(out, "%s%s", i ? "; " : "", r[i].text);
		if (r[i].count > 1)
			gantry_buf_addf(out, " x%u", r[i].count);
		free(r[i].text);
	}
out:
	gantry_buf_release(&b);
	gantry_json_free(list);
	gantry_json_free(desc);
}

/* The awslogs group and stream of the failing task's container. */
static int log_stream(struct ecs *e, const char *td, const struct failing *f,
		      char **group, char **stream)
{
	struct gantry_json *doc = NULL, *cds;
	size_t i;
	int found = 0;

	if (ecs_describe_td(e, td, 0, &doc) < 0)
		return 0;
	cds = gantry_json_get(doc, "taskDefinition.containerDefinitions");
	for (i = 0; i < gantry_json_length(cds) && !found; i++) {
		struct gantry_json *c = gantry_json_at(cds, i);
		const char *prefix;
		char buf[1024];

		if (strcmp(gantry_json_string(c, "name", ""), f->container) ||
		    strcmp(gantry_json_string(c, "logConfiguration.logDriver",
					      ""), "awslogs"))
			continue;
		prefix = gantry_json_string(c, "logConfiguration.options."
					    "awslogs-stream-prefix", NULL);
		*group = gantry_xstrdup(gantry_json_string(c,
			"logConfiguration.options.awslogs-group", ""));
		/* The stream name awslogs gives ECS tasks. */
		if (prefix)
			snprintf(buf, sizeof(buf), "%s/%s/%s", prefix,
				 f->container, f->task_id);
		else
			snprintf(buf, sizeof(buf), "%s", f->task_id);
		*stream = gantry_xstrdup(buf);
		found = **group != '\0';
	}
	gantry_json_free(doc);
	return found;
}

static void log_lines(struct ecs *e, const char *td, const struct failing *f,
		      struct gantry_buf *out)
{
	struct gantry_json *doc = NULL, *events;
	char *group = NULL, *stream = NULL;
	struct gantry_buf b = GANTRY_BUF_INIT;
	size_t i, n;

	if (!f->task_id || !td || !*td ||
	    !log_stream(e, td, f, &group, &stream))
		goto out;
	gantry_buf_adds(&b, "{\"logGroupName\":");
	gantry_buf_add_json(&b, group);
	gantry_buf_adds(&b, ",\"logStreamNames\":[");
	gantry_buf_add_json(&b, stream);
	gantry_buf_adds(&b, "],\"limit\":100}");
	if (gantry_aws_json(e->aws, "logs", "FilterLogEvents", b.buf,
			    &doc)) {
		gantry_warn(e->ctx, "cannot read the logs of task %s: %s",
			    f->task_id, gantry_aws_error_line(e->aws));
		goto out;
	}
	events = gantry_json_get(doc, "events");
	n = gantry_json_length(events);
	if (!n)
		goto out;
	gantry_buf_addf(out, "; log lines (%s %s): ", group, stream);
	for (i = n > LOG_LINES ? n - LOG_LINES : 0; i < n; i++) {
		char line[512], *nl;
		int first = i == (n > LOG_LINES ? n - LOG_LINES : 0);

		snprintf(line, sizeof(line), "%s", gantry_json_string(
			gantry_json_at(events, i), "message", ""));
		if ((nl = strchr(line, '\n')))
			*nl = '\0';
		gantry_buf_addf(out, "%s%s", first ? "" : " | ", line);
	}
out:
	gantry_buf_release(&b);
	gantry_json_free(doc);
	free(group);
	free(stream);
}

char *ecs_explain(struct ecs *e, const char *dep_id, const char *td)
{
	struct gantry_buf out = GANTRY_BUF_INIT;
	struct failing f = { NULL, NULL };

	stopped_tasks(e, dep_id, &out, &f);
	if (e->events.len)
		gantry_buf_addf(&out, "; last events: %s", e->events.buf);
	log_lines(e, td, &f, &out);
	free(f.task_id);
	free(f.container);
	return gantry_buf_detach(&out);
}
