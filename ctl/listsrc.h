/*
 * listsrc.h - where lookup and export take their list from: --list,
 * --local, --local-max-bytes, --categories, --service-areas, and --redis
 * (with --redis-prefix, --redis-auth-file, --verify-key) for the version
 * the helpers following Redis use now.
 */
#ifndef M365CTL_LISTSRC_H
#define M365CTL_LISTSRC_H

#include <getopt.h>

#include "connect.h"
#include "m365_list.h"
#include "m365_options.h"
#include "m365_sign.h"
#include "m365_store.h"

/* The long options listsrc_option() takes, for a command's table. */
#define LISTSRC_LONGOPTS                                                       \
	{"list", required_argument, NULL, 'l'},                                \
	    {"local", required_argument, NULL, 'L'},                           \
	    {"categories", required_argument, NULL, 'c'},                      \
	    {"service-areas", required_argument, NULL, 's'},                   \
	    {"redis", required_argument, NULL, 'r'},                           \
	    {"redis-prefix", required_argument, NULL, 'p'},                    \
	    {"redis-auth-file", required_argument, NULL, 'A'},                 \
	    {"verify-key", required_argument, NULL, 'K'},                      \
	{                                                                      \
		"local-max-bytes", required_argument, NULL, 'X'                \
	}

/* The usage lines of those options. */
#define LISTSRC_USAGE                                                          \
	"         [--list FILE] [--local FILE] [--local-max-bytes N]\n"        \
	"         [--categories LIST] [--service-areas LIST]\n"                \
	"         [--redis URL [--redis-prefix P]\n"                           \
	"          [--redis-auth-file FILE] [--verify-key FILE]]\n"

struct listsrc {
	const char *cmd; /* "lookup", "export": for messages */
	struct m365_options opt;
	struct ctl_redis ro;
	const char *prefix, *verify_key;
	/* after listsrc_load(): where the list came from, for headers:
	 * "Redis (prefix m365:), version V" or the file's name */
	char origin[320];
	char version[M365_VERSION_MAX + 1]; /* the Redis version, or "" */
};

/* A source for command cmd with the defaults. */
void listsrc_init(struct listsrc *s, const char *cmd);

/*
 * Takes getopt_long()'s option c (one of LISTSRC_LONGOPTS) with its
 * argument.  Returns 1 when it was one of them, 0 when it was not, or 2
 * after printing "m365ctl CMD: reason" for a bad value.
 */
int listsrc_option(struct listsrc *s, int c, const char *arg);

/* Checks the options go together; 0, or 2 after a message. */
int listsrc_check(const struct listsrc *s);

/*
 * Loads the list: Redis's current version with --redis (the fallback list
 * when Redis holds none), else --list or the bundled one; the local list
 * and policy of the options.  Warns on stderr of local rules that
 * backtrack badly.  Returns the list, or NULL after printing why; *status
 * is then 2 (input, usage) or 4 (Redis unreachable).
 */
struct m365_list *listsrc_load(struct listsrc *s, int *status);

#endif
