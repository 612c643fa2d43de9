/*
 * m365ctl - the admins' tool for m365-bypass.
 *
 *   m365ctl lookup [--list F] [--local F] [--categories ..]
 *                  [--service-areas ..] HOST [PORT [SNI]]
 *   m365ctl export pac|nft|text|json [--proxy P] [-o FILE] ...
 *   m365ctl update [--instance I] [--redis URL] [--state-dir DIR] ...
 *   m365ctl import FILE [--redis URL] [--version V]
 *   m365ctl changes [VERSION] [--redis URL] [--state-dir DIR] [--json]
 *   m365ctl status [--redis URL] [--state-dir DIR] [--metrics DIR] [--json]
 *   m365ctl metrics [--metrics DIR] [--state-dir DIR] [--listen ADDR:PORT]
 *   m365ctl help [COMMAND]
 *
 * Each command lives in its own file (ctl_*.c); this one dispatches.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"

static int help(int argc, char **argv);

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
    {"lookup", ctl_lookup, "why is a host (not) bypassed?"},
    {"export", ctl_export,
     "the list in use as a PAC file, nftables sets, Squid ACLs, lists"},
    {"update", ctl_update, "publish Microsoft's newest list"},
    {"import", ctl_import, "publish a local snapshot file"},
    {"pin", ctl_pin, "keep a kept version current until unpin"},
    {"unpin", ctl_unpin, "let update publish Microsoft's newest again"},
    {"rollback", ctl_rollback, "pin the kept version before the current"},
    {"changes", ctl_changes,
     "what a publish added and removed, per endpoint set"},
    {"status", ctl_status,
     "health check: this host's processes, Redis, the farm, the last update"},
    {"metrics", ctl_metrics, "this host's counters for Prometheus"},
    {"help", help, "this list, or 'help COMMAND': the command's usage"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct m365_option_names ctl_option_names = {
    .list = "--list",
    .local = "--local",
    .categories = "--categories",
    .service_areas = "--service-areas",
    .redis = "--redis",
    .local_max_bytes = "--local-max-bytes",
};

int
ctl_exit_status(const struct m365_err *err)
{
	switch (err->code) {
	case M365_E_INPUT:
	case M365_E_REFUSED: return 1;
	default: return 4;
	}
}

int
ctl_parse_factor(const char *s, double *out)
{
	size_t i = strspn(s, "0123456789"), f = 0;
	double v;

	if (i == 0 || i > 9)
		return -1;
	if (s[i] == '.') {
		f = strspn(s + i + 1, "0123456789");
		if (f == 0 || f > 9)
			return -1;
		i += 1 + f;
	}
	if (s[i] != '\0' || (v = strtod(s, NULL)) < 1)
		return -1;
	*out = v;
	return 0;
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: m365ctl COMMAND [OPTIONS] [ARGS]\n\ncommands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
		        commands[i].summary);
	fprintf(f,
	        "\n'm365ctl help COMMAND' or 'm365ctl COMMAND --help' "
	        "describes a command.\n"
	        "\nexit status, of every command: 0 done (lookup: OK), 1 "
	        "refused (lookup:\nERR; status: needs attention), 2 usage or "
	        "input error, 3 another\nupdate holds the lock, 4 network, "
	        "Redis or file system error.\n");
}

/* help [COMMAND]: the list of commands, or COMMAND --help. */
static int
help(int argc, char **argv)
{
	static char name[64];
	char *sub[3] = {name, "--help", NULL};
	size_t i;

	if (argc < 2 || strcmp(argv[1], "help") == 0 ||
	    strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			snprintf(name, sizeof(name), "m365ctl %s", argv[1]);
			return commands[i].run(2, sub);
		}
	fprintf(stderr, "m365ctl help: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	static char name[64];
	size_t i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("m365ctl " CTL_VERSION "\n");
		return 0;
	}
	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0) {
			/* getopt_long() names the program by argv[0]: errors
			 * then read "m365ctl CMD: ..." like the commands' own
			 */
			snprintf(name, sizeof(name), "m365ctl %s", argv[1]);
			argv[1] = name;
			return commands[i].run(argc - 1, argv + 1);
		}
	fprintf(stderr, "m365ctl: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
