/*
 * connect.h - how m365ctl reaches Redis: --redis URL, --redis-auth-file
 * FILE, and (update and import) --redis-sentinel HOST:PORT with
 * --redis-master NAME.
 */
#ifndef M365CTL_CONNECT_H
#define M365CTL_CONNECT_H

#include <hiredis/hiredis.h>
#include <stdbool.h>

#include "m365_redis.h"
#include "sentinel.h"

/* The timeout of every Redis connect and command of m365ctl. */
#define CTL_REDIS_TIMEOUT_MS 5000

struct ctl_redis {
	const char *url;       /* --redis, or NULL */
	const char *auth_file; /* --redis-auth-file, or NULL */
	const char *master;    /* --redis-master, or NULL */
	struct sentinel_addr sentinels[SENTINEL_MAX];
	int n_sentinels;
};

/* The long options of a publishing command's Redis (update, import, pin,
 * unpin, rollback), for its table; ctl_redis_option() takes them. */
#define CTL_REDIS_LONGOPTS                                                     \
	{"redis", required_argument, NULL, 'r'},                               \
	    {"redis-prefix", required_argument, NULL, 'p'},                    \
	    {"redis-auth-file", required_argument, NULL, 'A'},                 \
	    {"redis-sentinel", required_argument, NULL, 'S'},                  \
	{                                                                      \
		"redis-master", required_argument, NULL, 'M'                   \
	}

/*
 * Takes getopt_long()'s option c (one of CTL_REDIS_LONGOPTS) with its
 * argument into r (--redis-prefix into *prefix).  Returns 1 when it was
 * one of them, 0 when not, or 2 after printing "m365ctl CMD: reason".
 */
int ctl_redis_option(const char *cmd, struct ctl_redis *r, const char **prefix,
                     int c, const char *arg);

/*
 * Adds the address of a --redis-sentinel option.  Returns 0, or 2 after
 * printing "m365ctl CMD: reason" (a bad address, more than SENTINEL_MAX).
 */
int ctl_redis_add_sentinel(const char *cmd, struct ctl_redis *r,
                           const char *arg);

/* True when the options name a Redis: --redis or --redis-sentinel. */
bool ctl_redis_wanted(const struct ctl_redis *r);

/*
 * Checks that the options go together: --redis-sentinel and
 * --redis-master both or neither, --redis-auth-file only with a Redis.
 * Returns 0, or 2 after printing "m365ctl CMD: reason".
 */
int ctl_redis_check(const char *cmd, const struct ctl_redis *r);

/*
 * Fills u from --redis (with sentinels and no --redis: "redis://" on
 * database 0, no credentials) and then from --redis-auth-file.  Returns 0,
 * or 2 after printing "m365ctl CMD: reason".
 */
int ctl_redis_url(const char *cmd, const struct ctl_redis *r,
                  struct m365_redis_url *u);

/*
 * Opens the Redis connection the options name (through the sentinels when
 * there are any), with CTL_REDIS_TIMEOUT_MS.  Returns 0 and sets *out, or
 * prints "m365ctl CMD: reason" and returns 2 for bad options or 4 when
 * Redis (or every sentinel) cannot be reached.
 */
int ctl_redis_open(const char *cmd, const struct ctl_redis *r,
                   redisContext **out);

#endif
