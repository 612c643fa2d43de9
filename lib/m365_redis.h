/*
 * m365_redis.h - Redis URLs and connections, with timeouts everywhere.
 *
 *   redis://[[user:]password@]host[:port][/db]
 *   unix:///path/to/socket[?db=N]
 */
#ifndef M365_REDIS_H
#define M365_REDIS_H

#include <hiredis/hiredis.h>

#include "m365_err.h"

struct m365_redis_url {
	char host[256];     /* TCP host, or "" for a unix socket */
	int port;           /* default 6379 */
	char path[256];     /* unix socket path, or "" */
	int db;             /* SELECT db, default 0 */
	char user[128];     /* ACL user, or "" */
	char password[256]; /* or "" */
};

/*
 * Parses url into out.  The user and password are percent-decoded
 * ("p%40ss" is "p@ss"; a decoded NUL is refused).  Returns 0, or -1 with
 * err set to "NAME: reason" (M365_E_INPUT; the password is never echoed),
 * NAME being the front end's name for the option ("--redis",
 * "m365_bypass.Redis"), or "Redis URL" when name is NULL.
 */
int m365_redis_url_parse(const char *url, struct m365_redis_url *out,
                         const char *name, struct m365_err *err);

/*
 * Reads Redis credentials from a file into u, replacing any the URL gave:
 * one line "USER PASSWORD" (an ACL user) or "PASSWORD" (the default user),
 * '#' comments and blank lines ignored.  The file must be a regular file
 * that group and others cannot read.  Returns 0, or -1 with err set to
 * "PATH: reason" (M365_E_INPUT; the password is never echoed).
 */
int m365_redis_auth_file(const char *path, struct m365_redis_url *u,
                         struct m365_err *err);

/*
 * Connects, authenticates and selects the database, with timeout_ms for the
 * connect and for every later command.  Returns a blocking hiredis context
 * the caller frees with redisFree(), or NULL with err set (M365_E_REDIS).
 */
redisContext *m365_redis_connect(const struct m365_redis_url *u, int timeout_ms,
                                 struct m365_err *err);

/* Describes the URL without its password ("redis://host:6379/0"). */
char *m365_redis_url_describe(const struct m365_redis_url *u, char *buf,
                              size_t len);

#endif
