/*
 * m365_farm.h - the farm view: every follower records itself in Redis.
 *
 * Each process that follows Redis (a helper, a c-icap child) names its
 * command connection "m365-bypass:FRONTEND:HOST:PID:VERSION:PREFIX"
 * (CLIENT SETNAME, again after each switch; its subscriber connection is
 * "m365-bypass-sub:FRONTEND:HOST:PID") and, every M365_FARM_BEAT_S
 * seconds, writes
 *
 *     PREFIX "proxy:" HOST ":" FRONTEND ":" PID  ->  "1 VERSION PUBLISHED SEEN"
 *
 * with an expiry of M365_FARM_TTL_S seconds, so a dead process leaves the
 * view within a minute.  VERSION is "-" when the list in use came from no
 * Redis version; PUBLISHED and SEEN are Unix times.  `m365ctl status
 * --redis` reads them back (SCAN) and flags hosts left on an older version.
 * A read-only Redis (a replica) refuses the write: the process then only
 * names its connection, and says so once in its log; `m365ctl status`
 * also reads the names (CLIENT LIST), so a replica still shows the
 * followers connected to it and their versions.
 */
#ifndef M365_FARM_H
#define M365_FARM_H

#include <stddef.h>

#include "m365_store.h"

#define M365_FARM_BEAT_S 15
#define M365_FARM_TTL_S 45
/* A host still on an older version this long after a publish lags. */
#define M365_FARM_LAG_S 60
#define M365_FARM_HOST_MAX 64

/* One process's record. */
struct m365_farm_entry {
	char host[M365_FARM_HOST_MAX + 1];
	char frontend[8]; /* "squid" or "icap" */
	int pid;
	char version[M365_VERSION_MAX + 1]; /* "" for none */
	long long published_at, seen_at;
};

/* This host's name as the farm view shows it: gethostname(), cut to
 * M365_FARM_HOST_MAX, any byte outside [A-Za-z0-9._-] made '_'. */
char *m365_farm_host(char *buf, size_t len);

/* The key of e under prefix, into buf; NULL when it does not fit. */
char *m365_farm_key(const char *prefix, const struct m365_farm_entry *e,
                    char *buf, size_t len);

/* The value of e ("1 VERSION PUBLISHED SEEN"), into buf. */
char *m365_farm_value(const struct m365_farm_entry *e, char *buf, size_t len);

/* The command connection's name of e under prefix, into buf; NULL when
 * it does not fit. */
char *m365_farm_client_name(const char *prefix, const struct m365_farm_entry *e,
                            char *buf, size_t len);

/*
 * Parses a connection name name[0..n) from CLIENT LIST (untrusted).
 * Returns 0 with e filled (published_at and seen_at 0) when it is a
 * follower's command connection under prefix, else -1.
 */
int m365_farm_parse_client_name(const char *name, size_t n, const char *prefix,
                                struct m365_farm_entry *e);

/*
 * Parses a record: key (with its prefix, of plen bytes) and value, both
 * from Redis and untrusted.  Returns 0 with e filled, or -1 when either
 * is not a record.
 */
int m365_farm_parse(const char *key, size_t plen, const char *value,
                    struct m365_farm_entry *e);

#endif
