/* sign.c - Ed25519 keys and version signatures (see m365_sign.h). */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "hex.h"
#include "m365_sign.h"

#define KEY_FILE_MAX 16384
#define SIG_LEN 64

struct m365_key {
	EVP_PKEY *pkey;
};

/* Reads a key file; a secret one must not be open to group or others.
 * The caller cleanses and frees the buffer. */
static char *
key_text(const char *path, int secret, size_t *len, struct m365_err *err)
{
	struct stat st;
	char *buf;

	if ((buf = m365_read_file_st(path, KEY_FILE_MAX, len, &st, err)) ==
	    NULL)
		return NULL;
	if (secret && (st.st_mode & 077) != 0) {
		free(buf);
		m365_err_set(err, M365_E_INPUT,
		             "%s: a private key must not be readable by group "
		             "or others (chmod 600)",
		             path);
		return NULL;
	}
	return buf;
}

/* Parses a PEM public key (public != 0) or private key from text. */
static EVP_PKEY *
pem_key(const char *text, size_t len, int public)
{
	BIO *b = BIO_new_mem_buf(text, (int)len);
	EVP_PKEY *k = NULL;

	if (b == NULL)
		return NULL;
	k = public ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL)
	           : PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	BIO_free(b);
	return k;
}

static struct m365_key *
wrap(EVP_PKEY *pkey, const char *path, struct m365_err *err)
{
	struct m365_key *k;

	if (pkey == NULL) {
		m365_err_set(err, M365_E_INPUT,
		             "%s: not a PEM key (expected an Ed25519 key from "
		             "openssl genpkey -algorithm ed25519)",
		             path);
		return NULL;
	}
	if (EVP_PKEY_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		m365_err_set(err, M365_E_INPUT, "%s: not an Ed25519 key", path);
		return NULL;
	}
	if ((k = malloc(sizeof(*k))) == NULL) {
		EVP_PKEY_free(pkey);
		m365_err_set(err, M365_E_NOMEM, "%s: out of memory", path);
		return NULL;
	}
	k->pkey = pkey;
	return k;
}

struct m365_key *
m365_key_load_private(const char *path, struct m365_err *err)
{
	size_t len;
	char *text = key_text(path, 1, &len, err);
	EVP_PKEY *pkey;

	if (text == NULL)
		return NULL;
	pkey = pem_key(text, len, 0);
	OPENSSL_cleanse(text, len);
	free(text);
	return wrap(pkey, path, err);
}

struct m365_key *
m365_key_load_public(const char *path, struct m365_err *err)
{
	size_t len;
	char *text = key_text(path, 0, &len, err);
	EVP_PKEY *pkey;

	if (text == NULL)
		return NULL;
	if ((pkey = pem_key(text, len, 1)) == NULL)
		pkey = pem_key(text, len, 0);
	OPENSSL_cleanse(text, len);
	free(text);
	return wrap(pkey, path, err);
}

void
m365_key_free(struct m365_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

/* What is signed: the version name, its document's checksum and its
 * publication time. */
static size_t
message(char *buf, size_t cap, const char *version, const char *sha256,
        long long at)
{
	int n =
	    snprintf(buf, cap, "m365-bypass signed version 2\n%s\n%s\n%lld\n",
	             version, sha256, at);

	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

int
m365_sign_version(const struct m365_key *k, const char *version,
                  const char *sha256, long long published_at, char *out,
                  struct m365_err *err)
{
	unsigned char sig[SIG_LEN];
	size_t n, siglen = sizeof(sig), i;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	char msg[256];
	int ok;

	n = message(msg, sizeof(msg), version, sha256, published_at);
	ok = ctx != NULL && n > 0 &&
	     EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)msg, n) ==
	         1 &&
	     siglen == SIG_LEN;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return m365_err_set(err, M365_E_INPUT,
		                    "version %s: cannot sign (is the key a "
		                    "private Ed25519 key?)",
		                    version);
	for (i = 0; i < SIG_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", sig[i]);
	return 0;
}

int
m365_verify_version(const struct m365_key *k, const char *version,
                    const char *sha256, long long published_at, const char *sig,
                    struct m365_err *err)
{
	unsigned char raw[SIG_LEN];
	EVP_MD_CTX *ctx;
	char msg[256];
	size_t n, i;
	int ok;

	if (sig == NULL || sig[0] == '\0')
		return m365_err_set(err, M365_E_REFUSED,
		                    "version %s: no signature (a verify key is "
		                    "set)",
		                    version);
	if (strlen(sig) != M365_SIG_HEX)
		goto bad;
	for (i = 0; i < SIG_LEN; i++) {
		int hi = hex_value(sig[2 * i]), lo = hex_value(sig[2 * i + 1]);
		if (hi < 0 || lo < 0)
			goto bad;
		raw[i] = (unsigned char)(hi * 16 + lo);
	}
	if ((n = message(msg, sizeof(msg), version, sha256, published_at)) ==
	        0 ||
	    (ctx = EVP_MD_CTX_new()) == NULL)
		goto bad;
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k->pkey) == 1 &&
	     EVP_DigestVerify(ctx, raw, SIG_LEN, (const unsigned char *)msg,
	                      n) == 1;
	EVP_MD_CTX_free(ctx);
	if (ok)
		return 0;
bad:
	return m365_err_set(err, M365_E_REFUSED,
	                    "version %s: bad signature (not made by the "
	                    "verify key)",
	                    version);
}
