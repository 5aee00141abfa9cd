/*
 * cli.h - command-line parsing and the commands.
 */
#ifndef GANTRY_CLI_H
#define GANTRY_CLI_H

int cli_main(int argc, char **argv);

#endif
