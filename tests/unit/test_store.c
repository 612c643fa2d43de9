/*
 * tests/unit/test_store.c - store_snapshot_from_reply(), the pure half of
 * reading a version from Redis, on replies made by feeding RESP bytes to a
 * hiredis reader: shape, size, checksum and signature checks.
 */
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "m365_sign.h"
#include "m365_store.h"
#include "store_impl.h"

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

#define KEY "m365:v:2025120100"
#define VERSION "2025120100"
#define DOC "[{\"id\": 1, \"urls\": [\"teams.microsoft.com\"]}]"
#define AT "1764547200"
#define BY "m365ctl update on proxy1"
#define SOURCE "https://endpoints.office.com/endpoints/Worldwide"

/* One element of an HMGET reply: a bulk string, nil or an integer. */
enum kind { STR, NIL, INT };
struct field {
	enum kind kind;
	const char *s; /* STR */
	size_t len;    /* STR: 0 means strlen(s) */
};

#define S(x) ((struct field){STR, (x), 0})
#define NIL_F ((struct field){NIL, NULL, 0})
#define INT_F ((struct field){INT, NULL, 0})

static struct m365_key *signer;   /* the verify key's private half */
static struct m365_key *verifier; /* its public half */
static struct m365_key *stranger; /* another key */
static char dir[64];

/* Parses RESP bytes into a reply (free with freeReplyObject()). */
static redisReply *
reply_from(const char *resp, size_t len)
{
	redisReader *rd = redisReaderCreate();
	void *r = NULL;

	assert_non_null(rd);
	assert_int_equal(redisReaderFeed(rd, resp, len), REDIS_OK);
	assert_int_equal(redisReaderGetReply(rd, &r), REDIS_OK);
	redisReaderFree(rd);
	if (r == NULL)
		fail_msg("incomplete RESP: %.*s", (int)len, resp);
	return r;
}

/* The reply to HMGET with these n elements. */
static redisReply *
hmget(const struct field *f, size_t n)
{
	size_t cap = 256, off, i;
	char *buf;
	redisReply *r;

	for (i = 0; i < n; i++)
		cap +=
		    32 + (f[i].s ? (f[i].len ? f[i].len : strlen(f[i].s)) : 0);
	buf = test_malloc(cap);
	off = (size_t)snprintf(buf, cap, "*%zu\r\n", n);
	for (i = 0; i < n; i++) {
		size_t len = f[i].len ? f[i].len : f[i].s ? strlen(f[i].s) : 0;
		if (f[i].kind == NIL) {
			off +=
			    (size_t)snprintf(buf + off, cap - off, "$-1\r\n");
		} else if (f[i].kind == INT) {
			off +=
			    (size_t)snprintf(buf + off, cap - off, ":42\r\n");
		} else {
			off += (size_t)snprintf(buf + off, cap - off,
			                        "$%zu\r\n", len);
			memcpy(buf + off, f[i].s, len);
			off += len;
			memcpy(buf + off, "\r\n", 2);
			off += 2;
		}
	}
	assert_true(off < cap);
	r = reply_from(buf, off);
	test_free(buf);
	return r;
}

static char doc_sum[65];

/* A good reply's six fields, with sig. */
static void
good_fields(struct field f[6], const char *sig)
{
	f[0] = S(DOC);
	f[1] = S(doc_sum);
	f[2] = sig ? S(sig) : NIL_F;
	f[3] = S(AT);
	f[4] = S(BY);
	f[5] = S(SOURCE);
}

/* store_snapshot_from_reply() of these fields. */
static int
from(const struct field *f, size_t n, const struct m365_store_limits *lim,
     struct m365_snapshot *out, struct m365_err *err)
{
	redisReply *r = hmget(f, n);
	int rc;

	memset(err, 0, sizeof(*err));
	rc = store_snapshot_from_reply(r, KEY, VERSION, lim, out, err);
	freeReplyObject(r);
	return rc;
}

/* The fields must be refused with code, the message naming the key and
 * holding want. */
static void
refused(const struct field *f, size_t n, const struct m365_store_limits *lim,
        enum m365_err_code code, const char *want)
{
	struct m365_snapshot s;
	struct m365_err err;

	if (from(f, n, lim, &s, &err) != -1) {
		m365_snapshot_free(&s);
		fail_msg("accepted (wanted \"%s\")", want);
	}
	if (err.code != code || strstr(err.msg, KEY) == NULL ||
	    strstr(err.msg, want) == NULL)
		fail_msg("code %d message \"%s\"; want code %d, \"" KEY
		         "\" and \"%s\"",
		         (int)err.code, err.msg, (int)code, want);
	assert_null(s.json);
}

static void
accepted(const struct field *f, size_t n, const struct m365_store_limits *lim,
         struct m365_snapshot *out)
{
	struct m365_err err;

	if (from(f, n, lim, out, &err) != 0)
		fail_msg("refused: %s", err.msg);
}

/* --- keys (made at setup) -------------------------------------------- */

static int
write_private(EVP_PKEY *k, const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ok;

	if (f == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int
write_public(EVP_PKEY *k, const char *path)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL)
		return -1;
	ok = PEM_write_PUBKEY(f, k) == 1;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int
setup(void **state)
{
	EVP_PKEY *k1 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	EVP_PKEY *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	char a[128], b[128], c[128];
	int rc = -1;

	(void)state;
	m365_sha256_hex(DOC, strlen(DOC), doc_sum);
	snprintf(dir, sizeof(dir), "/tmp/m365-test-store.XXXXXX");
	if (k1 == NULL || k2 == NULL || mkdtemp(dir) == NULL)
		goto out;
	snprintf(a, sizeof(a), "%s/sign.pem", dir);
	snprintf(b, sizeof(b), "%s/verify.pem", dir);
	snprintf(c, sizeof(c), "%s/other.pem", dir);
	if (write_private(k1, a) == 0 && write_public(k1, b) == 0 &&
	    write_private(k2, c) == 0) {
		signer = m365_key_load_private(a, NULL);
		verifier = m365_key_load_public(b, NULL);
		stranger = m365_key_load_private(c, NULL);
		rc = signer && verifier && stranger ? 0 : -1;
	}
	unlink(a);
	unlink(b);
	unlink(c);
	rmdir(dir);
out:
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	return rc;
}

static int
teardown(void **state)
{
	(void)state;
	m365_key_free(signer);
	m365_key_free(verifier);
	m365_key_free(stranger);
	return 0;
}

/* --- tests ----------------------------------------------------------- */

TEST(test_good_reply_fills_the_snapshot)
{
	struct field f[6];
	struct m365_snapshot s;

	good_fields(f, NULL);
	accepted(f, 6, NULL, &s);
	assert_string_equal(s.version, VERSION);
	assert_non_null(s.json);
	assert_int_equal(s.len, strlen(DOC));
	assert_memory_equal(s.json, DOC, s.len);
	assert_int_equal(s.json[s.len], '\0');
	assert_string_equal(s.sha256, doc_sum);
	assert_int_equal(s.published_at, 1764547200LL);
	assert_string_equal(s.published_by, BY);
	assert_string_equal(s.source, SOURCE);
	assert_string_equal(s.sig, "");
	m365_snapshot_free(&s);
}

TEST(test_signature_and_missing_optional_fields)
{
	struct field f[6];
	struct m365_snapshot s;
	char sig[M365_SIG_HEX + 1];

	assert_int_equal(m365_sign_version(signer, VERSION, doc_sum,
	                                   1764547200LL, sig, NULL),
	                 0);
	good_fields(f, sig);
	f[3] = f[4] = f[5] = NIL_F;
	accepted(f, 6, NULL, &s); /* no verify key: kept, not checked */
	assert_string_equal(s.sig, sig);
	assert_int_equal(s.published_at, 0);
	assert_string_equal(s.published_by, "");
	assert_string_equal(s.source, "");
	m365_snapshot_free(&s);
}

TEST(test_document_with_nul_bytes_is_kept_whole)
{
	static const char doc[] = "[\0]";
	struct field f[6];
	struct m365_snapshot s;
	char sum[65];

	m365_sha256_hex(doc, 3, sum);
	good_fields(f, NULL);
	f[0] = (struct field){STR, doc, 3};
	f[1] = S(sum);
	accepted(f, 6, NULL, &s);
	assert_int_equal(s.len, 3);
	assert_memory_equal(s.json, doc, 3);
	m365_snapshot_free(&s);
}

TEST(test_missing_document_or_checksum_is_refused)
{
	struct field f[6];

	good_fields(f, NULL);
	f[0] = NIL_F;
	refused(f, 6, NULL, M365_E_INPUT, "missing or incomplete");
	good_fields(f, NULL);
	f[1] = NIL_F;
	refused(f, 6, NULL, M365_E_INPUT, "missing or incomplete");
	good_fields(f, NULL);
	f[0] = f[1] = f[2] = f[3] = f[4] = f[5] = NIL_F; /* no such hash */
	refused(f, 6, NULL, M365_E_INPUT, "missing or incomplete");
}

TEST(test_wrong_element_count_is_refused)
{
	struct field f[7];

	good_fields(f, NULL);
	refused(f, 5, NULL, M365_E_INPUT, "unexpected reply");
	f[6] = S("extra");
	refused(f, 7, NULL, M365_E_INPUT, "unexpected reply");
	refused(f, 0, NULL, M365_E_INPUT, "unexpected reply");
}

TEST(test_reply_that_is_not_an_array_is_refused)
{
	static const char *const resps[] = {"$-1\r\n", "+OK\r\n", ":6\r\n",
	                                    "-WRONGTYPE bad\r\n",
	                                    "$5\r\nhello\r\n"};
	struct m365_snapshot s;
	struct m365_err err;
	size_t i;

	for (i = 0; i < sizeof(resps) / sizeof(resps[0]); i++) {
		redisReply *r = reply_from(resps[i], strlen(resps[i]));
		memset(&err, 0, sizeof(err));
		assert_int_equal(
		    store_snapshot_from_reply(r, KEY, VERSION, NULL, &s, &err),
		    -1);
		assert_int_equal(err.code, M365_E_INPUT);
		assert_non_null(strstr(err.msg, KEY));
		freeReplyObject(r);
	}
	memset(&err, 0, sizeof(err));
	assert_int_equal(
	    store_snapshot_from_reply(NULL, KEY, VERSION, NULL, &s, &err), -1);
	assert_int_equal(err.code, M365_E_INPUT);
}

TEST(test_integer_element_is_refused)
{
	struct field f[6];
	size_t i;

	for (i = 0; i < 4; i++) {
		good_fields(f, NULL);
		f[i] = INT_F;
		refused(f, 6, NULL, M365_E_INPUT, "missing or incomplete");
	}
}

TEST(test_checksum_mismatch_is_refused)
{
	struct field f[6];
	char upper[65], other[65];
	size_t i;

	m365_sha256_hex("[]", 2, other);
	good_fields(f, NULL);
	f[1] = S(other);
	refused(f, 6, NULL, M365_E_INPUT, "checksum mismatch");
	/* the computed one is named */
	refused(f, 6, NULL, M365_E_INPUT, doc_sum);
	/* the same digits in upper case are not the checksum */
	for (i = 0; i < 65; i++)
		upper[i] = (char)(doc_sum[i] >= 'a' && doc_sum[i] <= 'f'
		                      ? doc_sum[i] - 'a' + 'A'
		                      : doc_sum[i]);
	f[1] = S(upper);
	refused(f, 6, NULL, M365_E_INPUT, "checksum mismatch");
	f[1] = (struct field){STR, doc_sum, 63};
	refused(f, 6, NULL, M365_E_INPUT, "checksum mismatch");
	f[1] = S("");
	refused(f, 6, NULL, M365_E_INPUT, "checksum mismatch");
	/* a changed document */
	good_fields(f, NULL);
	f[0] = S("[{\"id\": 1, \"urls\": [\"*.evil.example\"]}]");
	refused(f, 6, NULL, M365_E_INPUT, "checksum mismatch");
}

TEST(test_document_over_the_limit_is_refused)
{
	struct m365_store_limits lim = {.max = strlen(DOC) - 1, .verify = NULL};
	struct field f[6];
	struct m365_snapshot s;

	good_fields(f, NULL);
	refused(f, 6, &lim, M365_E_REFUSED, "larger than");
	lim.max = strlen(DOC);
	accepted(f, 6, &lim, &s);
	m365_snapshot_free(&s);
	lim.max = 0; /* the default */
	accepted(f, 6, &lim, &s);
	m365_snapshot_free(&s);
}

TEST(test_verify_key_requires_a_valid_signature)
{
	struct m365_store_limits lim = {.max = 0, .verify = verifier};
	struct field f[6];
	struct m365_snapshot s;
	char sig[M365_SIG_HEX + 1], other[65], bad[M365_SIG_HEX + 2];

	/* unsigned */
	good_fields(f, NULL);
	refused(f, 6, &lim, M365_E_REFUSED, "no signature");
	good_fields(f, "");
	refused(f, 6, &lim, M365_E_REFUSED, "no signature");
	/* signed by the verify key */
	assert_int_equal(m365_sign_version(signer, VERSION, doc_sum,
	                                   1764547200LL, sig, NULL),
	                 0);
	good_fields(f, sig);
	accepted(f, 6, &lim, &s);
	assert_string_equal(s.sig, sig);
	m365_snapshot_free(&s);
	/* signed for another version name: a replay */
	assert_int_equal(m365_sign_version(signer, "2025120099", doc_sum,
	                                   1764547200LL, sig, NULL),
	                 0);
	good_fields(f, sig);
	refused(f, 6, &lim, M365_E_REFUSED, "bad signature");
	/* signed over another document */
	m365_sha256_hex("[]", 2, other);
	assert_int_equal(
	    m365_sign_version(signer, VERSION, other, 1764547200LL, sig, NULL),
	    0);
	good_fields(f, sig);
	refused(f, 6, &lim, M365_E_REFUSED, "bad signature");
	/* signed by another key */
	assert_int_equal(m365_sign_version(stranger, VERSION, doc_sum,
	                                   1764547200LL, sig, NULL),
	                 0);
	good_fields(f, sig);
	refused(f, 6, &lim, M365_E_REFUSED, "bad signature");
	/* a valid signature with junk after it does not fit: bad */
	assert_int_equal(m365_sign_version(signer, VERSION, doc_sum,
	                                   1764547200LL, sig, NULL),
	                 0);
	snprintf(bad, sizeof(bad), "%s0", sig);
	good_fields(f, bad);
	refused(f, 6, &lim, M365_E_REFUSED, "bad signature");
	/* an integer signature is a mistyped version */
	good_fields(f, NULL);
	f[2] = INT_F;
	refused(f, 6, &lim, M365_E_INPUT, "missing or incomplete");
}

TEST(test_line_breaks_in_short_fields_are_cut)
{
	struct field f[6];
	struct m365_snapshot s;

	good_fields(f, NULL);
	f[4] = S("alice\r\nX-Injected: 1");
	f[5] = S("src\nmore");
	accepted(f, 6, NULL, &s);
	assert_string_equal(s.published_by, "alice");
	assert_string_equal(s.source, "src");
	m365_snapshot_free(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_reply_fills_the_snapshot),
	    cmocka_unit_test(test_signature_and_missing_optional_fields),
	    cmocka_unit_test(test_document_with_nul_bytes_is_kept_whole),
	    cmocka_unit_test(test_missing_document_or_checksum_is_refused),
	    cmocka_unit_test(test_wrong_element_count_is_refused),
	    cmocka_unit_test(test_reply_that_is_not_an_array_is_refused),
	    cmocka_unit_test(test_integer_element_is_refused),
	    cmocka_unit_test(test_checksum_mismatch_is_refused),
	    cmocka_unit_test(test_document_over_the_limit_is_refused),
	    cmocka_unit_test(test_verify_key_requires_a_valid_signature),
	    cmocka_unit_test(test_line_breaks_in_short_fields_are_cut),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
