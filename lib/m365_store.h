/*
 * m365_store.h - endpoint list versions in Redis (docs/redis.md).
 *
 *   PREFIX "current"         string: the version in use
 *   PREFIX "v:" VERSION      hash: json, sha256, version, published_at,
 *                            published_by, source, and sig when signed,
 *                            params (what update asked Microsoft for) and
 *                            changes (the change report, JSON) when known
 *   PREFIX "versions"        list: newest first, at most `keep`
 *   PREFIX "pinned"          string: the version update must keep
 *                            (m365ctl pin), or none
 *   PREFIX "lock"            string: the updater's lock (SET NX PX)
 *   PREFIX "updates"         pub/sub channel: VERSION on every switch
 *
 * The default prefix is "m365:"; one prefix per instance lets Worldwide and
 * GCC High share one Redis.  A switch (store version, move the pointer, trim
 * old versions, publish) is one Lua script: readers see all or nothing.
 */
#ifndef M365_STORE_H
#define M365_STORE_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "m365_endpoints.h"
#include "m365_err.h"
#include "m365_sign.h"

#define M365_STORE_PREFIX "m365:"
#define M365_STORE_KEEP 5
#define M365_VERSION_MAX 64
/* The size of a version's recorded parameters, NUL included. */
#define M365_PARAMS_MAX 256
/* The largest document read from Redis unless the reader says otherwise
 * (the same bound as a list file or a download). */
#define M365_STORE_DOC_MAX (64u << 20)

struct m365_snapshot {
	char version[M365_VERSION_MAX + 1];
	char *json; /* the endpoint list, as published */
	size_t len;
	char sha256[65];        /* hex of SHA-256(json) */
	long long published_at; /* unix time */
	char published_by[128];
	char source[256];
	char sig[129]; /* hex Ed25519 signature (m365_sign.h), or "" */
	/* Stored by m365_store_publish(), not read back by m365_store_get()
	 * (see m365_store_field()): what the list was asked for
	 * ("instance=Worldwide&serviceAreas=&tenant=&noIPv6=false", m365ctl
	 * update) or "" when unknown, and the change report (JSON) or NULL. */
	char params[M365_PARAMS_MAX];
	const char *changes;
};

/* Writes the hex SHA-256 of data[0..len) into out[65]. */
void m365_sha256_hex(const char *data, size_t len, char out[65]);

/*
 * True when v is a valid version name: 1-64 characters of [A-Za-z0-9._-]
 * (Microsoft's are 10 digits, YYYYMMDDNN).
 */
int m365_version_valid(const char *v);

/*
 * Reads the current version into out (M365_VERSION_MAX + 1 bytes).  Returns
 * 1 when there is one, 0 when Redis has none, -1 with err set on error or
 * garbage.
 */
int m365_store_current(redisContext *c, const char *prefix, char *out,
                       struct m365_err *err);

/* Reads the pinned version (m365ctl pin) like m365_store_current(). */
int m365_store_pinned(redisContext *c, const char *prefix, char *out,
                      struct m365_err *err);

/* Pins version (NULL: unpins).  0, or -1 with err set. */
int m365_store_set_pin(redisContext *c, const char *prefix, const char *version,
                       struct m365_err *err);

/* What a reader accepts from Redis; a NULL limits pointer means defaults. */
struct m365_store_limits {
	size_t max;                    /* largest document; 0: the default */
	const struct m365_key *verify; /* required signer, or NULL for none */
};

/*
 * Fetches one version, reading no document larger than lim->max (its size
 * is asked first, with HSTRLEN), and verifies its checksum and, when
 * lim->verify is set, its signature.  Returns 0 and fills out (free with
 * m365_snapshot_free()), or -1 with err set: M365_E_INPUT for a missing,
 * corrupt or mistyped version or a checksum mismatch, M365_E_REFUSED for a
 * document over the limit or a missing or bad signature, M365_E_REDIS when
 * the link fails.
 */
int m365_store_get(redisContext *c, const char *prefix, const char *version,
                   const struct m365_store_limits *lim,
                   struct m365_snapshot *out, struct m365_err *err);

/*
 * Fetches one version like m365_store_get() and validates it completely as
 * an endpoint list named "redis PREFIX version V" in messages.  Returns the
 * list (the caller frees it), or NULL with err set.  When s is not NULL the
 * snapshot is kept there on success (free with m365_snapshot_free()).
 */
struct m365_endpoints *m365_store_load(redisContext *c, const char *prefix,
                                       const char *version,
                                       const struct m365_store_limits *lim,
                                       struct m365_snapshot *s,
                                       struct m365_err *err);

/*
 * Publishes s (its sha256 is computed here; s->sig, when not "", is stored
 * as the version's signature and must have been made over that sha256) as
 * the current version, keeps the `keep` newest versions and announces the
 * switch.  Whatever the keys hold before (a corrupt pointer, a version list
 * or version hash of the wrong type) is replaced.  0, or -1 with err.
 */
int m365_store_publish(redisContext *c, const char *prefix,
                       struct m365_snapshot *s, int keep, struct m365_err *err);

/* Lists the kept versions, newest first, into a NULL-terminated array the
 * caller frees with m365_strv_free().  NULL with err set on error. */
char **m365_store_versions(redisContext *c, const char *prefix,
                           struct m365_err *err);

/*
 * Takes the updaters' lock for ttl_ms, tagged with owner.  Returns 1 when
 * taken, 0 when another holds it, -1 on error.  m365_store_unlock() releases
 * it only if owner still holds it.
 */
int m365_store_lock(redisContext *c, const char *prefix, const char *owner,
                    int ttl_ms, struct m365_err *err);
void m365_store_unlock(redisContext *c, const char *prefix, const char *owner);

/* The channel name: PREFIX "updates", into buf. */
char *m365_store_channel(const char *prefix, char *buf, size_t len);

/*
 * Reads one field of version's hash ("params", "changes"), of at most max
 * bytes, asking its size first.  Returns it NUL-terminated (the caller
 * frees it), or NULL with err set: M365_E_INPUT when the version has no
 * such field, it is empty or larger than max, M365_E_REDIS when the link
 * fails.
 */
char *m365_store_field(redisContext *c, const char *prefix, const char *version,
                       const char *field, size_t max, struct m365_err *err);

/* Frees what a snapshot owns (not changes); s may be NULL. */
void m365_snapshot_free(struct m365_snapshot *s);

/* Frees a NULL-terminated string array; NULL is a no-op. */
void m365_strv_free(char **v);

#endif
