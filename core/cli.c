/*
 * cli.c - command-line parsing and dispatch.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core.h"
#include "cli.h"

int cli_main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "version")) {
		printf("gantry %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
		       GANTRY_ABI_MAJOR, GANTRY_ABI_MINOR);
		return EXIT_OK;
	}
	fprintf(stderr, "usage: gantry COMMAND [ARGS]\n");
	return EXIT_USAGE;
}
