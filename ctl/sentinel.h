/*
 * sentinel.h - finding the Redis primary through Redis Sentinel
 * (m365ctl update and import, --redis-sentinel HOST:PORT --redis-master
 * NAME).
 */
#ifndef M365CTL_SENTINEL_H
#define M365CTL_SENTINEL_H

#include <hiredis/hiredis.h>

#include "m365_err.h"
#include "m365_redis.h"

/* How many --redis-sentinel options a command takes. */
#define SENTINEL_MAX 5

struct sentinel_addr {
	char host[256];
	int port;
};

/*
 * Parses "HOST:PORT" or "[IPV6]:PORT" (port 1-65535, digits only) into
 * out.  Returns 0, or -1 with err set to "--redis-sentinel: reason"
 * (M365_E_INPUT).
 */
int sentinel_parse(const char *arg, struct sentinel_addr *out,
                   struct m365_err *err);

/*
 * Asks each of the n sentinels in turn (2 s timeouts, no credentials)
 * "SENTINEL get-master-addr-by-name name", connects to the address it
 * gives with u's credentials and database (u's own address is ignored)
 * and timeout_ms, and checks that ROLE says master; a sentinel that is
 * down, knows no such master or names a server that is not the primary
 * sends us to the next.  Returns the primary's connection (free with
 * redisFree()), or NULL with err set (M365_E_REDIS) to
 * "--redis-sentinel: no primary for master NAME (what each sentinel said)".
 */
redisContext *sentinel_connect(const struct sentinel_addr *s, int n,
                               const char *name, const struct m365_redis_url *u,
                               int timeout_ms, struct m365_err *err);

#endif
