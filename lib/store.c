/* store.c - endpoint list versions in Redis (see m365_store.h). */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m365_text.h"
#include "store_impl.h"

#define KEY_MAX 512
#define STORE_FMT "json sha256 sig published_at published_by source"

/* Stores a version, moves the pointer, trims, publishes: all or nothing.
 * Whatever the keys held (a version of the same name, a key of the wrong
 * type) is replaced, so that a publish can always repair a broken store.
 * KEYS: current, versions, the version's hash.  ARGV: version, json,
 * sha256, published_at, published_by, source, keep, prefix, channel,
 * signature, parameters, change report ("" for none: not stored). */
static const char publish_lua[] =
    "redis.call('DEL', KEYS[3])\n"
    "local t = redis.call('TYPE', KEYS[2]).ok\n"
    "if t ~= 'list' and t ~= 'none' then redis.call('DEL', KEYS[2]) end\n"
    "redis.call('HSET', KEYS[3], 'json', ARGV[2], 'sha256', ARGV[3],"
    " 'version', ARGV[1], 'published_at', ARGV[4], 'published_by', ARGV[5],"
    " 'source', ARGV[6])\n"
    "if ARGV[10] ~= '' then redis.call('HSET', KEYS[3], 'sig', ARGV[10]) "
    "end\n"
    "if ARGV[11] ~= '' then redis.call('HSET', KEYS[3], 'params', ARGV[11]) "
    "end\n"
    "if ARGV[12] ~= '' then "
    "redis.call('HSET', KEYS[3], 'changes', ARGV[12]) end\n"
    "redis.call('SET', KEYS[1], ARGV[1])\n"
    "redis.call('LREM', KEYS[2], 0, ARGV[1])\n"
    "redis.call('LPUSH', KEYS[2], ARGV[1])\n"
    "local keep = tonumber(ARGV[7])\n"
    "for _, v in ipairs(redis.call('LRANGE', KEYS[2], keep, -1)) do\n"
    "  redis.call('DEL', ARGV[8] .. 'v:' .. v)\n"
    "end\n"
    "redis.call('LTRIM', KEYS[2], 0, keep - 1)\n"
    "redis.call('PUBLISH', ARGV[9], ARGV[1])\n"
    "return 1\n";

static const char unlock_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
    "  return redis.call('DEL', KEYS[1])\n"
    "end\n"
    "return 0\n";

void
m365_sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (i = 0; i < n && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}

int
m365_version_valid(const char *v)
{
	return m365_token(v, strlen(v), M365_VERSION_MAX, "._-");
}

static void
key(char *buf, const char *prefix, const char *a, const char *b)
{
	snprintf(buf, KEY_MAX, "%s%s%s", prefix, a, b ? b : "");
}

char *
m365_store_channel(const char *prefix, char *buf, size_t len)
{
	snprintf(buf, len, "%supdates", prefix);
	return buf;
}

/*
 * A failed command: the reason from the reply or the connection.  A key of
 * the wrong type or an unexpected reply is bad data (M365_E_INPUT); a lost
 * link or a refusal by Redis is M365_E_REDIS.
 */
static int
redis_fail(redisContext *c, redisReply *r, const char *what,
           struct m365_err *err)
{
	enum m365_err_code code = M365_E_REDIS;

	if (r != NULL && (r->type != REDIS_REPLY_ERROR ||
	                  strncmp(r->str, "WRONGTYPE", 9) == 0))
		code = M365_E_INPUT;
	m365_err_set(err, code, "redis: %s: %s", what,
	             r && r->type == REDIS_REPLY_ERROR ? r->str
	             : c->err                          ? c->errstr
	                                               : "unexpected reply");
	freeReplyObject(r);
	return -1;
}

/* Reads the version key PREFIX name points to ("current", "pinned"):
 * 1 and out, 0 when there is none, -1 with err set. */
static int
read_pointer(redisContext *c, const char *prefix, const char *name, char *out,
             struct m365_err *err)
{
	char k[KEY_MAX];
	redisReply *r;

	key(k, prefix, name, NULL);
	/* never read a pointer larger than a version name */
	r = redisCommand(c, "STRLEN %s", k);
	if (r == NULL || r->type != REDIS_REPLY_INTEGER)
		return redis_fail(c, r, "STRLEN", err);
	if (r->integer > M365_VERSION_MAX) {
		freeReplyObject(r);
		return m365_err_set(err, M365_E_INPUT,
		                    "redis: %s holds no valid version", k);
	}
	freeReplyObject(r);
	r = redisCommand(c, "GET %s", k);
	if (r == NULL ||
	    (r->type != REDIS_REPLY_NIL && r->type != REDIS_REPLY_STRING))
		return redis_fail(c, r, "GET", err);
	if (r->type == REDIS_REPLY_NIL) {
		freeReplyObject(r);
		return 0;
	}
	if (r->len > M365_VERSION_MAX || strlen(r->str) != r->len ||
	    !m365_version_valid(r->str)) {
		freeReplyObject(r);
		return m365_err_set(err, M365_E_INPUT,
		                    "redis: %s holds no valid version", k);
	}
	memcpy(out, r->str, r->len + 1);
	freeReplyObject(r);
	return 1;
}

int
m365_store_current(redisContext *c, const char *prefix, char *out,
                   struct m365_err *err)
{
	return read_pointer(c, prefix, "current", out, err);
}

int
m365_store_pinned(redisContext *c, const char *prefix, char *out,
                  struct m365_err *err)
{
	return read_pointer(c, prefix, "pinned", out, err);
}

int
m365_store_set_pin(redisContext *c, const char *prefix, const char *version,
                   struct m365_err *err)
{
	char k[KEY_MAX];
	redisReply *r;

	key(k, prefix, "pinned", NULL);
	r = version ? redisCommand(c, "SET %s %s", k, version)
	            : redisCommand(c, "DEL %s", k);
	if (r == NULL || r->type == REDIS_REPLY_ERROR)
		return redis_fail(c, r, version ? "SET pinned" : "DEL pinned",
		                  err);
	freeReplyObject(r);
	return 0;
}

/* A string element of an HMGET reply, or NULL for nil; -1 in *bad for
 * any other type. */
static const redisReply *
elem(const redisReply *r, size_t i, int *bad)
{
	const redisReply *e = r->element[i];

	if (e->type == REDIS_REPLY_STRING)
		return e;
	if (e->type != REDIS_REPLY_NIL)
		*bad = 1;
	return NULL;
}

/* Copies a short field into dst (cap bytes), "" when missing. */
static void
copy_short(const redisReply *v, char *dst, size_t cap)
{
	size_t n = v ? v->len : 0;

	if (n >= cap)
		n = cap - 1;
	if (n > 0)
		memcpy(dst, v->str, n);
	dst[n] = '\0';
	dst[strcspn(dst, "\r\n")] = '\0';
}

static size_t
limit_of(const struct m365_store_limits *lim)
{
	return lim && lim->max ? lim->max : M365_STORE_DOC_MAX;
}

int
store_snapshot_from_reply(const redisReply *r, const char *k,
                          const char *version,
                          const struct m365_store_limits *lim,
                          struct m365_snapshot *out, struct m365_err *err)
{
	const redisReply *json, *sum, *sig, *at;
	char got[65];
	int bad = 0;

	memset(out, 0, sizeof(*out));
	if (r == NULL || r->type != REDIS_REPLY_ARRAY ||
	    r->elements != STORE_N_FIELDS)
		return m365_err_set(err, M365_E_INPUT,
		                    "redis: %s: unexpected reply", k);
	json = elem(r, 0, &bad);
	sum = elem(r, 1, &bad);
	sig = elem(r, 2, &bad);
	at = elem(r, 3, &bad);
	if (bad || json == NULL || sum == NULL)
		return m365_err_set(err, M365_E_INPUT,
		                    "redis: %s is missing or incomplete", k);
	if (json->len > limit_of(lim))
		return m365_err_set(
		    err, M365_E_REFUSED,
		    "redis: %s: document of %zu bytes is larger "
		    "than %zu",
		    k, (size_t)json->len, limit_of(lim));
	m365_sha256_hex(json->str, json->len, got);
	if (sum->len != 64 || memcmp(sum->str, got, 64) != 0)
		return m365_err_set(
		    err, M365_E_INPUT,
		    "redis: %s: checksum mismatch (stored %.64s, computed %s)",
		    k, sum->len <= 64 ? sum->str : "(too long)", got);
	copy_short(sig, out->sig, sizeof(out->sig));
	if (sig != NULL && sig->len != strlen(out->sig))
		out->sig[0] = '?'; /* a signature that does not fit is bad */
	if (at != NULL) {
		char num[32];
		copy_short(at, num, sizeof(num));
		out->published_at = strtoll(num, NULL, 10);
	}
	if (lim && lim->verify &&
	    m365_verify_version(lim->verify, version, got, out->published_at,
	                        out->sig, err) < 0)
		return m365_err_prefix(err, "redis: %s", k);
	if ((out->json = malloc(json->len + 1)) == NULL)
		return m365_err_set(err, M365_E_NOMEM, "redis: out of memory");
	memcpy(out->json, json->str, json->len);
	out->json[json->len] = '\0';
	out->len = json->len;
	memcpy(out->sha256, got, sizeof(got));
	snprintf(out->version, sizeof(out->version), "%s", version);
	copy_short(elem(r, 4, &bad), out->published_by,
	           sizeof(out->published_by));
	copy_short(elem(r, 5, &bad), out->source, sizeof(out->source));
	if (bad) {
		m365_snapshot_free(out);
		return m365_err_set(err, M365_E_INPUT,
		                    "redis: %s: a field of the wrong type", k);
	}
	return 0;
}

/* Asks the sizes of the hash's fields; refuses any over its bound before
 * a byte of them is read. */
static int
check_sizes(redisContext *c, const char *k, const struct m365_store_limits *lim,
            struct m365_err *err)
{
	static const char *const fields[] = {STORE_FIELDS};
	redisReply *r;
	size_t i;

	for (i = 0; i < STORE_N_FIELDS; i++)
		if (redisAppendCommand(c, "HSTRLEN %s %s", k, fields[i]) !=
		    REDIS_OK)
			return m365_err_set(err, M365_E_NOMEM,
			                    "redis: out of memory");
	for (i = 0; i < STORE_N_FIELDS; i++) {
		long long cap = i == 0 ? (long long)limit_of(lim) : 4096;
		if (redisGetReply(c, (void **)&r) != REDIS_OK || r == NULL ||
		    r->type != REDIS_REPLY_INTEGER) {
			/* the rest of the pipeline is lost with the link or
			 * drained: an error reply does not break it */
			int rc = redis_fail(c, r, "HSTRLEN", err);
			while (++i < STORE_N_FIELDS && !c->err &&
			       redisGetReply(c, (void **)&r) == REDIS_OK)
				freeReplyObject(r);
			return rc;
		}
		if (r->integer > cap) {
			m365_err_set(err, M365_E_REFUSED,
			             "redis: %s: field %s of %lld bytes is "
			             "larger than %lld",
			             k, fields[i], r->integer, cap);
			freeReplyObject(r);
			while (++i < STORE_N_FIELDS &&
			       redisGetReply(c, (void **)&r) == REDIS_OK)
				freeReplyObject(r);
			return -1;
		}
		freeReplyObject(r);
	}
	return 0;
}

int
m365_store_get(redisContext *c, const char *prefix, const char *version,
               const struct m365_store_limits *lim, struct m365_snapshot *out,
               struct m365_err *err)
{
	char k[KEY_MAX];
	redisReply *r;
	int rc;

	memset(out, 0, sizeof(*out));
	key(k, prefix, "v:", version);
	if (check_sizes(c, k, lim, err) < 0)
		return -1;
	r = redisCommand(c, "HMGET %s " STORE_FMT, k);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY)
		return redis_fail(c, r, "HMGET", err);
	rc = store_snapshot_from_reply(r, k, version, lim, out, err);
	freeReplyObject(r);
	return rc;
}

struct m365_endpoints *
m365_store_load(redisContext *c, const char *prefix, const char *version,
                const struct m365_store_limits *lim, struct m365_snapshot *s,
                struct m365_err *err)
{
	struct m365_endpoints *ep;
	struct m365_snapshot snap;
	char src[KEY_MAX + 64];

	if (m365_store_get(c, prefix, version, lim, &snap, err) < 0)
		return NULL;
	snprintf(src, sizeof(src), "redis %s version %s", prefix, version);
	ep = m365_endpoints_parse(snap.json, snap.len, src, err);
	if (ep != NULL && s != NULL)
		*s = snap;
	else
		m365_snapshot_free(&snap);
	return ep;
}

int
m365_store_publish(redisContext *c, const char *prefix, struct m365_snapshot *s,
                   int keep, struct m365_err *err)
{
	char kcur[KEY_MAX], kvers[KEY_MAX], kver[KEY_MAX], chan[KEY_MAX];
	char at[32], keeps[16];
	const char *argv[18];
	size_t lens[18];
	redisReply *r;
	int i;

	if (!m365_version_valid(s->version))
		return m365_err_set(err, M365_E_INPUT,
		                    "invalid version \"%.70s\"", s->version);
	m365_sha256_hex(s->json, s->len, s->sha256);
	key(kcur, prefix, "current", NULL);
	key(kvers, prefix, "versions", NULL);
	key(kver, prefix, "v:", s->version);
	m365_store_channel(prefix, chan, sizeof(chan));
	snprintf(at, sizeof(at), "%lld", s->published_at);
	snprintf(keeps, sizeof(keeps), "%d", keep < 1 ? 1 : keep);
	argv[0] = "EVAL";
	argv[1] = publish_lua;
	argv[2] = "3";
	argv[3] = kcur;
	argv[4] = kvers;
	argv[5] = kver;
	argv[6] = s->version;
	argv[7] = s->json;
	argv[8] = s->sha256;
	argv[9] = at;
	argv[10] = s->published_by;
	argv[11] = s->source;
	argv[12] = keeps;
	argv[13] = prefix;
	argv[14] = chan;
	argv[15] = s->sig;
	argv[16] = s->params;
	argv[17] = s->changes ? s->changes : "";
	for (i = 0; i < 18; i++)
		lens[i] = i == 7 ? s->len : strlen(argv[i]);
	r = redisCommandArgv(c, 18, argv, lens);
	if (r == NULL || r->type != REDIS_REPLY_INTEGER)
		return redis_fail(c, r, "publish script", err);
	freeReplyObject(r);
	return 0;
}

char **
m365_store_versions(redisContext *c, const char *prefix, struct m365_err *err)
{
	char k[KEY_MAX], **v;
	redisReply *r;
	size_t i;

	key(k, prefix, "versions", NULL);
	r = redisCommand(c, "LRANGE %s 0 -1", k);
	if (r == NULL || r->type != REDIS_REPLY_ARRAY) {
		redis_fail(c, r, "LRANGE versions", err);
		return NULL;
	}
	if ((v = calloc(r->elements + 1, sizeof(char *))) == NULL)
		goto oom;
	for (i = 0; i < r->elements; i++)
		if (r->element[i]->type != REDIS_REPLY_STRING ||
		    (v[i] = strdup(r->element[i]->str)) == NULL)
			goto oom;
	freeReplyObject(r);
	return v;
oom:
	m365_strv_free(v);
	freeReplyObject(r);
	m365_err_set(err, M365_E_INPUT, "redis: bad or too large version list");
	return NULL;
}

int
m365_store_lock(redisContext *c, const char *prefix, const char *owner,
                int ttl_ms, struct m365_err *err)
{
	char k[KEY_MAX];
	redisReply *r;
	int taken;

	key(k, prefix, "lock", NULL);
	r = redisCommand(c, "SET %s %s NX PX %d", k, owner, ttl_ms);
	if (r == NULL ||
	    (r->type != REDIS_REPLY_STATUS && r->type != REDIS_REPLY_NIL))
		return redis_fail(c, r, "SET lock", err);
	taken = r->type == REDIS_REPLY_STATUS;
	freeReplyObject(r);
	return taken;
}

void
m365_store_unlock(redisContext *c, const char *prefix, const char *owner)
{
	char k[KEY_MAX];

	key(k, prefix, "lock", NULL);
	freeReplyObject(
	    redisCommand(c, "EVAL %s 1 %s %s", unlock_lua, k, owner));
}

char *
m365_store_field(redisContext *c, const char *prefix, const char *version,
                 const char *field, size_t max, struct m365_err *err)
{
	char k[KEY_MAX], *out;
	redisReply *r;

	key(k, prefix, "v:", version);
	r = redisCommand(c, "HSTRLEN %s %s", k, field);
	if (r == NULL || r->type != REDIS_REPLY_INTEGER)
		return redis_fail(c, r, "HSTRLEN", err), NULL;
	if (r->integer == 0 || r->integer > (long long)max) {
		m365_err_set(err, M365_E_INPUT,
		             r->integer ? "redis: %s: %s of %lld bytes is too "
		                          "large"
		                        : "redis: %s has no %s",
		             k, field, r->integer);
		freeReplyObject(r);
		return NULL;
	}
	freeReplyObject(r);
	r = redisCommand(c, "HGET %s %s", k, field);
	if (r == NULL || r->type != REDIS_REPLY_STRING)
		return redis_fail(c, r, "HGET", err), NULL;
	if ((out = malloc(r->len + 1)) == NULL)
		m365_err_set(err, M365_E_NOMEM, "redis: out of memory");
	else {
		memcpy(out, r->str, r->len);
		out[r->len] = '\0';
	}
	freeReplyObject(r);
	return out;
}

void
m365_snapshot_free(struct m365_snapshot *s)
{
	if (s == NULL)
		return;
	free(s->json);
	s->json = NULL;
	s->len = 0;
}

void
m365_strv_free(char **v)
{
	size_t i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}
