/*
 * main.c - gantry's entry point.
 */
#include "config.h"

#include "core.h"
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
