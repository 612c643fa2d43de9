/*
 * tests/unit/test_sign.c - Ed25519 keys and version signatures
 * (m365_sign.h), with keys made by OpenSSL at setup in a temporary
 * directory.
 */
#include <errno.h>
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

/* A test function; the name says what it proves. */
#define TEST(name) static void name(void **state __attribute__((unused)))

#define VERSION "2025120100"

static char dir[64];

/* The path of a file of the temporary directory, in a static buffer. */
static const char *
path(const char *name)
{
	static char buf[4][128];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

/* Opens name for writing, created with mode (the umask aside). */
static FILE *
create(const char *name, mode_t mode)
{
	int fd =
	    open(path(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f;

	if (fd < 0 || fchmod(fd, mode) < 0 || (f = fdopen(fd, "w")) == NULL) {
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return f;
}

/* Writes pkey's private half to name (mode) and its public half to
 * pub_name (0644, when not NULL).  0 or -1. */
static int
write_key(EVP_PKEY *pkey, const char *name, mode_t mode, const char *pub_name)
{
	FILE *f;
	int ok;

	if (pkey == NULL || (f = create(name, mode)) == NULL)
		return -1;
	ok = PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL) == 1;
	ok &= fclose(f) == 0;
	if (ok && pub_name != NULL) {
		if ((f = create(pub_name, 0644)) == NULL)
			return -1;
		ok = PEM_write_PUBKEY(f, pkey) == 1;
		ok &= fclose(f) == 0;
	}
	return ok ? 0 : -1;
}

static int
write_text(const char *name, mode_t mode, const char *text)
{
	FILE *f = create(name, mode);
	int ok;

	if (f == NULL)
		return -1;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static const char *const files[] = {
    "priv.pem", "pub.pem", "priv2.pem",  "pub2.pem", "open.pem",  "ro.pem",
    "junk.pem", "rsa.pem", "rsapub.pem", "ec.pem",   "empty.pem", "fifo"};

static int
setup(void **state)
{
	EVP_PKEY *k1, *k2, *rsa, *ec;
	int rc = 0;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/m365-test-sign.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	k1 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	k2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	rc |= write_key(k1, "priv.pem", 0600, "pub.pem");
	rc |= write_key(k2, "priv2.pem", 0600, "pub2.pem");
	rc |= write_key(k1, "open.pem", 0644, NULL);
	rc |= write_key(k1, "ro.pem", 0400, NULL);
	rc |= write_key(rsa, "rsa.pem", 0600, "rsapub.pem");
	rc |= write_key(ec, "ec.pem", 0600, NULL);
	rc |= write_text("junk.pem", 0600, "this is not a key\n");
	rc |= write_text("empty.pem", 0600, "");
	rc |= mkfifo(path("fifo"), 0600);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	return rc == 0 ? 0 : -1;
}

static int
teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(path(files[i]));
	rmdir(dir);
	return 0;
}

static struct m365_key *
private_ok(const char *name)
{
	struct m365_err err;
	struct m365_key *k;

	memset(&err, 0, sizeof(err));
	if ((k = m365_key_load_private(path(name), &err)) == NULL)
		fail_msg("%s: %s", name, err.msg);
	return k;
}

static struct m365_key *
public_ok(const char *name)
{
	struct m365_err err;
	struct m365_key *k;

	memset(&err, 0, sizeof(err));
	if ((k = m365_key_load_public(path(name), &err)) == NULL)
		fail_msg("%s: %s", name, err.msg);
	return k;
}

/* Loading name must fail with code and a message naming the file and
 * holding want. */
static void
load_refused(int private, const char *name, enum m365_err_code code,
             const char *want)
{
	struct m365_err err;
	struct m365_key *k;
	const char *p = path(name);

	memset(&err, 0, sizeof(err));
	k = private ? m365_key_load_private(p, &err)
	            : m365_key_load_public(p, &err);
	if (k != NULL) {
		m365_key_free(k);
		fail_msg("%s accepted as a %s key", name,
		         private ? "private" : "public");
	}
	if (err.code != code || strncmp(err.msg, p, strlen(p)) != 0 ||
	    strstr(err.msg, want) == NULL)
		fail_msg("%s: code %d message \"%s\"; want code %d, the path "
		         "and \"%s\"",
		         name, (int)err.code, err.msg, (int)code, want);
}

/* The hex SHA-256 of a document. */
static void
sha(const char *doc, char out[65])
{
	m365_sha256_hex(doc, strlen(doc), out);
}

static void
sign_ok(const struct m365_key *k, const char *version, const char *sum,
        char sig[M365_SIG_HEX + 1])
{
	struct m365_err err;

	memset(&err, 0, sizeof(err));
	if (m365_sign_version(k, version, sum, 1764547200LL, sig, &err) != 0)
		fail_msg("sign: %s", err.msg);
}

/* Verifying must be refused with "version V: " and want. */
static void
verify_refused(const struct m365_key *k, const char *version, const char *sum,
               const char *sig, const char *want)
{
	struct m365_err err;
	char prefix[80];

	memset(&err, 0, sizeof(err));
	if (m365_verify_version(k, version, sum, 1764547200LL, sig, &err) != -1)
		fail_msg("signature \"%.20s...\" accepted for %s",
		         sig ? sig : "NULL", version);
	assert_int_equal(err.code, M365_E_REFUSED);
	snprintf(prefix, sizeof(prefix), "version %s: ", version);
	if (strncmp(err.msg, prefix, strlen(prefix)) != 0 ||
	    strstr(err.msg, want) == NULL)
		fail_msg("message \"%s\" lacks \"%s\" or \"%s\"", err.msg,
		         prefix, want);
}

/* --- keys ------------------------------------------------------------ */

TEST(test_private_and_public_keys_load)
{
	m365_key_free(private_ok("priv.pem"));
	m365_key_free(private_ok("ro.pem")); /* 0400 is fine too */
	m365_key_free(public_ok("pub.pem"));
	m365_key_free(public_ok("pub2.pem"));
	m365_key_free(NULL);
}

/* m365_sign.h: "a private key file is also accepted: its public half is
 * used" (for the public key and for the algorithm check). */
TEST(test_public_half_of_a_private_key_file_is_used)
{
	struct m365_key *half = public_ok("priv.pem");
	struct m365_key *priv = private_ok("priv.pem");
	char sum[65], sig[M365_SIG_HEX + 1];

	sha("[]", sum);
	sign_ok(priv, VERSION, sum, sig);
	assert_int_equal(
	    m365_verify_version(half, VERSION, sum, 1764547200LL, sig, NULL),
	    0);
	m365_key_free(priv);
	m365_key_free(half);
	load_refused(0, "rsa.pem", M365_E_INPUT, "not an Ed25519 key");
	load_refused(0, "ec.pem", M365_E_INPUT, "not an Ed25519 key");
}

TEST(test_private_key_readable_by_others_is_refused)
{
	load_refused(1, "open.pem", M365_E_INPUT, "chmod 600");
}

TEST(test_non_pem_and_empty_files_are_refused)
{
	load_refused(1, "junk.pem", M365_E_INPUT, "not a PEM key");
	load_refused(0, "junk.pem", M365_E_INPUT, "not a PEM key");
	load_refused(1, "empty.pem", M365_E_INPUT, "not a PEM key");
	load_refused(0, "empty.pem", M365_E_INPUT, "not a PEM key");
	/* a public key is no private key */
	chmod(path("pub.pem"), 0600);
	load_refused(1, "pub.pem", M365_E_INPUT, "");
	chmod(path("pub.pem"), 0644);
}

TEST(test_keys_of_other_algorithms_are_refused)
{
	load_refused(1, "rsa.pem", M365_E_INPUT, "not an Ed25519 key");
	load_refused(0, "rsa.pem", M365_E_INPUT, "");
	load_refused(0, "rsapub.pem", M365_E_INPUT, "not an Ed25519 key");
	load_refused(1, "ec.pem", M365_E_INPUT, "not an Ed25519 key");
	load_refused(0, "ec.pem", M365_E_INPUT, "");
}

TEST(test_missing_file_is_an_io_error)
{
	load_refused(1, "no-such.pem", M365_E_IO, "no-such.pem");
	load_refused(0, "no-such.pem", M365_E_IO, "no-such.pem");
}

TEST(test_fifo_and_directory_are_refused_without_blocking)
{
	/* a FIFO without a writer would block an open() without
	 * O_NONBLOCK: the alarm kills the test instead of hanging it */
	alarm(10);
	load_refused(1, "fifo", M365_E_INPUT, "not a regular file");
	load_refused(0, "fifo", M365_E_INPUT, "not a regular file");
	alarm(0);
	assert_null(m365_key_load_public(dir, NULL));
	assert_null(m365_key_load_private(dir, NULL));
}

/* --- signatures ------------------------------------------------------ */

TEST(test_sign_then_verify)
{
	struct m365_key *priv = private_ok("priv.pem");
	struct m365_key *pub = public_ok("pub.pem");
	char sum[65], sig[M365_SIG_HEX + 1], again[M365_SIG_HEX + 1];
	struct m365_err err;
	size_t i;

	sha("[{\"id\": 1}]", sum);
	memset(sig, 'X', sizeof(sig));
	sign_ok(priv, VERSION, sum, sig);
	assert_int_equal(strlen(sig), M365_SIG_HEX);
	for (i = 0; i < M365_SIG_HEX; i++)
		if (!((sig[i] >= '0' && sig[i] <= '9') ||
		      (sig[i] >= 'a' && sig[i] <= 'f')))
			fail_msg("signature \"%s\" is not lowercase hex", sig);
	memset(&err, 0, sizeof(err));
	assert_int_equal(
	    m365_verify_version(pub, VERSION, sum, 1764547200LL, sig, &err), 0);
	assert_int_equal(
	    m365_verify_version(priv, VERSION, sum, 1764547200LL, sig, &err),
	    0);
	assert_int_equal(err.code, M365_E_NONE);
	/* Ed25519 is deterministic */
	sign_ok(priv, VERSION, sum, again);
	assert_string_equal(sig, again);
	m365_key_free(priv);
	m365_key_free(pub);
}

TEST(test_verify_refuses_anything_else)
{
	struct m365_key *priv = private_ok("priv.pem");
	struct m365_key *pub = public_ok("pub.pem");
	struct m365_key *priv2 = private_ok("priv2.pem");
	char sum[65], other[65], sig[M365_SIG_HEX + 1], bad[M365_SIG_HEX + 8];

	sha("[{\"id\": 1}]", sum);
	sha("[{\"id\": 2}]", other);
	sign_ok(priv, VERSION, sum, sig);

	/* the same document under another version name: no replay */
	verify_refused(pub, "2025120101", sum, sig, "bad signature");
	/* another document under the same name */
	verify_refused(pub, VERSION, other, sig, "bad signature");
	/* the same version claiming another publication time */
	assert_int_equal(
	    m365_verify_version(pub, VERSION, sum, 1764547201LL, sig, NULL),
	    -1);
	assert_int_equal(m365_verify_version(pub, VERSION, sum, 0, sig, NULL),
	                 -1);
	/* one hex digit changed */
	strcpy(bad, sig);
	bad[10] = bad[10] == '0' ? '1' : '0';
	verify_refused(pub, VERSION, sum, bad, "bad signature");
	strcpy(bad, sig);
	bad[M365_SIG_HEX - 1] = bad[M365_SIG_HEX - 1] == 'f' ? 'e' : 'f';
	verify_refused(pub, VERSION, sum, bad, "bad signature");
	/* truncated, and one digit too many */
	strcpy(bad, sig);
	bad[M365_SIG_HEX - 2] = '\0';
	verify_refused(pub, VERSION, sum, bad, "bad signature");
	bad[M365_SIG_HEX / 2] = '\0';
	verify_refused(pub, VERSION, sum, bad, "bad signature");
	strcpy(bad, sig);
	strcat(bad, "0");
	verify_refused(pub, VERSION, sum, bad, "bad signature");
	/* none */
	verify_refused(pub, VERSION, sum, "", "no signature");
	verify_refused(pub, VERSION, sum, NULL, "no signature");
	/* not hex */
	strcpy(bad, sig);
	bad[20] = 'g';
	verify_refused(pub, VERSION, sum, bad, "bad signature");
	memset(bad, 'z', M365_SIG_HEX);
	bad[M365_SIG_HEX] = '\0';
	verify_refused(pub, VERSION, sum, bad, "bad signature");
	strcpy(bad, sig);
	bad[0] = ' ';
	verify_refused(pub, VERSION, sum, bad, "bad signature");
	/* all zeros */
	memset(bad, '0', M365_SIG_HEX);
	verify_refused(pub, VERSION, sum, bad, "bad signature");
	/* made by another key */
	sign_ok(priv2, VERSION, sum, bad);
	verify_refused(pub, VERSION, sum, bad, "bad signature");
	assert_int_equal(
	    m365_verify_version(priv2, VERSION, sum, 1764547200LL, bad, NULL),
	    0);
	m365_key_free(priv);
	m365_key_free(pub);
	m365_key_free(priv2);
}

TEST(test_a_public_key_cannot_sign)
{
	struct m365_key *pub = public_ok("pub.pem");
	char sum[65], sig[M365_SIG_HEX + 1];
	struct m365_err err;

	sha("x", sum);
	memset(&err, 0, sizeof(err));
	assert_int_equal(
	    m365_sign_version(pub, VERSION, sum, 1764547200LL, sig, &err), -1);
	assert_int_not_equal(err.code, M365_E_NONE);
	assert_non_null(strstr(err.msg, VERSION));
	m365_key_free(pub);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_private_and_public_keys_load),
	    cmocka_unit_test(test_public_half_of_a_private_key_file_is_used),
	    cmocka_unit_test(test_private_key_readable_by_others_is_refused),
	    cmocka_unit_test(test_non_pem_and_empty_files_are_refused),
	    cmocka_unit_test(test_keys_of_other_algorithms_are_refused),
	    cmocka_unit_test(test_missing_file_is_an_io_error),
	    cmocka_unit_test(
	        test_fifo_and_directory_are_refused_without_blocking),
	    cmocka_unit_test(test_sign_then_verify),
	    cmocka_unit_test(test_verify_refuses_anything_else),
	    cmocka_unit_test(test_a_public_key_cannot_sign),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
