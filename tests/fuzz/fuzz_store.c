/* fuzz_store.c - libFuzzer: bytes from Redis (RESP) through hiredis's
 * reader, then every reply through store_snapshot_from_reply() as the
 * answer to "HMGET m365:v:2025120100 json sha256 sig published_at
 * published_by source", with the default limits, with a 4096-byte limit
 * and with a verify key; a snapshot it accepts goes through the JSON
 * loader and the breadth check.  An accepted snapshot must fit the limit
 * and carry the checksum of its document, what the small limit accepts the
 * default limits accept too, and nothing passes the verify key (its
 * private half was thrown away: an accepted signature is a forgery). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "m365_breadth.h"
#include "m365_endpoints.h"
#include "m365_sign.h"
#include "m365_store.h"
#include "store_impl.h"

#define KEY "m365:v:2025120100"
#define VERSION "2025120100"
#define SMALL_MAX 4096
/* hiredis 0.14 callocs a multi-bulk's element array as soon as it reads
 * its count: keep "*2000000000" from being an out-of-memory report about
 * hiredis rather than about us. */
#define ARRAY_MAX 1024
#define REPLIES_MAX 16

/* A public key whose private half no one has. */
#define VERIFY_PEM                                                             \
	"-----BEGIN PUBLIC KEY-----\n"                                         \
	"MCowBQYDK2VwAyEAbP7oi1cfMxuoYPETAgeBS8AZcUZ0jd4DSki7+132hMA=\n"       \
	"-----END PUBLIC KEY-----\n"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct m365_key *verify;

/* Loads VERIFY_PEM through a temporary file, as a reader loads its key. */
static struct m365_key *
load_verify_key(void)
{
	char path[] = "/tmp/fuzz_store.XXXXXX";
	struct m365_key *k;
	struct m365_err err;
	FILE *f;
	int fd;

	if ((fd = mkstemp(path)) < 0 || (f = fdopen(fd, "w")) == NULL)
		abort();
	if (fputs(VERIFY_PEM, f) == EOF || fclose(f) != 0)
		abort();
	k = m365_key_load_public(path, &err);
	unlink(path);
	if (k == NULL)
		abort();
	return k;
}

static redisReplyObjectFunctions fns;
static void *(*create_array)(const redisReadTask *, int);

static void *
bounded_array(const redisReadTask *task, int elements)
{
	if (elements > ARRAY_MAX)
		return NULL; /* the reader fails with "Out of memory" */
	return create_array(task, elements);
}

/* Returns whether the reply was accepted. */
static int
check(const redisReply *r, const struct m365_store_limits *lim)
{
	struct m365_snapshot s;
	struct m365_endpoints *ep;
	struct m365_err err;
	char hex[65];

	memset(&s, 0, sizeof(s));
	memset(&err, 0, sizeof(err));
	if (store_snapshot_from_reply(r, KEY, VERSION, lim, &s, &err) < 0) {
		if (err.code == M365_E_NONE || err.msg[0] == '\0')
			abort(); /* a refusal must say why */
		return 0;
	}
	if (s.json == NULL || (lim != NULL && lim->max && s.len > lim->max) ||
	    strcmp(s.version, VERSION) != 0)
		abort();
	m365_sha256_hex(s.json, s.len, hex);
	if (strcmp(hex, s.sha256) != 0)
		abort(); /* accepted a document that is not what was published
		          */
	ep = m365_endpoints_parse(s.json, s.len, "redis " KEY, &err);
	if (ep != NULL) {
		m365_breadth_check(ep, NULL, &err);
		m365_endpoints_free(ep);
	}
	m365_snapshot_free(&s);
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct m365_store_limits small = {SMALL_MAX, NULL};
	struct m365_store_limits signed_only = {0, NULL};
	redisReader *rd;
	void *reply;
	int i, whole;

	if (verify == NULL)
		verify = load_verify_key();
	signed_only.verify = verify;
	if ((rd = redisReaderCreate()) == NULL)
		abort();
	if (create_array == NULL) {
		fns = *rd->fn;
		create_array = fns.createArray;
		fns.createArray = bounded_array;
	}
	rd->fn = &fns;
	if (redisReaderFeed(rd, (const char *)data, size) != REDIS_OK)
		abort();
	for (i = 0; i < REPLIES_MAX; i++) {
		reply = NULL;
		if (redisReaderGetReply(rd, &reply) != REDIS_OK ||
		    reply == NULL)
			break;
		whole = check(reply, NULL);
		/* what a small limit accepts, the default accepts too */
		if (check(reply, &small) && !whole)
			abort();
		if (check(reply, &signed_only))
			abort();
		freeReplyObject(reply);
	}
	redisReaderFree(rd);
	return 0;
}
