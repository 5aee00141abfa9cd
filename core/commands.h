/*
 * commands.h - the read-only commands, shared by the command table
 * (cli_commands.c, whose handlers call them), cli.c (the output helpers)
 * and the files that implement them.
 */
#ifndef GANTRY_COMMANDS_H
#define GANTRY_COMMANDS_H

#include "session.h"

/* cli.c: UTC time for humans. */
void cli_fmt_time(double epoch, char *buf, size_t len);
/* printf to stdout through the terminal sanitiser (journal, lock and
   plugin fields come from outside; a final newline is kept). */
void cli_printf(const char *fmt, ...) GANTRY_PRINTF(1, 2);

/* cli_info.c: version, plugins list/show, config check. */
int cmd_version(const struct options *o);
int cmd_plugins_list(struct session *s);
int cmd_plugins_show(struct session *s, const char *name);
int cmd_config_check(const struct options *o, const char *env);

/* cli_state.c: history, status, lock/unlock. */
int cmd_history(struct session *s, const char *envname);
int cmd_status(struct session *s, const char *envname);
int cmd_lock(struct session *s, const char *envname, int remove);

#endif
