/*
 * publish.h - what m365ctl update and import share: the current version,
 * the safety checks, the change summary and the publication itself (Redis
 * and the on-disk snapshot in the state directory).
 */
#ifndef M365CTL_PUBLISH_H
#define M365CTL_PUBLISH_H

#include <hiredis/hiredis.h>
#include <stdbool.h>

#include "m365_endpoints.h"
#include "m365_store.h"

#define STATE_DIR_DEFAULT "/var/lib/m365-bypass"

struct target {
	redisContext *redis; /* or NULL: state directory only */
	const char *prefix;
	const char *state_dir; /* or NULL */
	bool force;
	int keep;
};

/*
 * Loads the version now in use (from Redis when there is one, else from the
 * state directory) into version (may be "") and *ep (NULL when none).
 * Returns 0, or -1 with err set when Redis fails or holds a corrupt list.
 */
int publish_current(const struct target *t, char *version, size_t len,
                    struct m365_endpoints **ep, struct m365_err *err);

/*
 * Refuses (-1, err set) a list that has less than half the sets, or less
 * than half the names and addresses, of the current one, unless forced.
 */
int publish_check_shrink(const struct m365_endpoints *old,
                         const struct m365_endpoints *neu, bool force,
                         struct m365_err *err);

/* "sets 64 (+0 -8), names 204 (+5 -20), addresses 129 (+1 -3)". */
char *publish_summary(const struct m365_endpoints *old,
                      const struct m365_endpoints *neu, char *buf, size_t len);

/*
 * Publishes s to Redis (when connected) and writes endpoints.json and
 * version into the state directory atomically (when given).  0 or -1.
 */
int publish_write(const struct target *t, struct m365_snapshot *s,
                  struct m365_err *err);

/*
 * Opens the Redis connection of a command's --redis URL, with the 5 s
 * timeouts of m365ctl.  On failure prints "m365ctl CMD: reason" and returns
 * 2 for a bad URL or 4 when Redis cannot be reached; 0 on success.
 */
int ctl_redis_open(const char *cmd, const char *url, redisContext **out);

/* "host:pid" of this process, for published_by and the lock owner. */
char *publisher_name(char *buf, size_t len);

#endif
