/* store_impl.h - the pure half of reading a version (internal; fuzzed). */
#ifndef M365_STORE_IMPL_H
#define M365_STORE_IMPL_H

#include <hiredis/hiredis.h>

#include "m365_store.h"

/* The hash fields a reader asks for with HMGET, in this order. */
#define STORE_FIELDS                                                           \
	"json", "sha256", "sig", "published_at", "published_by", "source"
#define STORE_N_FIELDS 6

/*
 * Turns the reply to "HMGET KEY json sha256 sig published_at published_by
 * source" for version into out, checking everything a reader must: the
 * reply's shape, the document's size against lim->max, its checksum and,
 * with lim->verify, its signature.  key names the hash in messages.
 * Returns 0 and fills out (free with m365_snapshot_free()), or -1 with err
 * set (M365_E_INPUT for a missing, mistyped or corrupt version,
 * M365_E_REFUSED for a document over the limit or a bad signature).
 */
int store_snapshot_from_reply(const redisReply *r, const char *key,
                              const char *version,
                              const struct m365_store_limits *lim,
                              struct m365_snapshot *out, struct m365_err *err);

#endif
