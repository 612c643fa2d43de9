/*
 * m365_sign.h - signed versions: Ed25519 keys and signatures.
 *
 * A publisher with `--sign-key FILE` (an Ed25519 private key in PEM, as
 * `openssl genpkey -algorithm ed25519` writes it) signs every version it
 * publishes; a reader with `--verify-key FILE` (the public key in PEM, as
 * `openssl pkey -pubout` writes it) refuses any version without a valid
 * signature.  What is signed binds the document to its version name and
 * its publication time:
 *
 *     "m365-bypass signed version 2\n" VERSION "\n" SHA256-HEX-OF-JSON "\n"
 *     PUBLISHED_AT "\n"
 *
 * (PUBLISHED_AT in decimal unix seconds), so a signed document cannot be
 * replayed under another version name or as newer than it is (readers
 * refuse a version published before the one they use), and a forged
 * document (even with a correct checksum) has no valid signature.
 * Signatures travel as 128 lowercase hex digits.
 */
#ifndef M365_SIGN_H
#define M365_SIGN_H

#include "m365_err.h"

/* Hex digits of a signature (64 bytes). */
#define M365_SIG_HEX 128

struct m365_key;

/*
 * Loads an Ed25519 private key from a PEM file.  The file must be a regular
 * file that neither group nor others can read (mode 0600 or 0400), like an
 * ssh key.  Returns the key (free with m365_key_free()), or NULL with err
 * set to "PATH: reason" (M365_E_INPUT for a bad or exposed key, M365_E_IO
 * when it cannot be read).
 */
struct m365_key *m365_key_load_private(const char *path, struct m365_err *err);

/*
 * Loads an Ed25519 public key from a PEM file (a private key file is also
 * accepted: its public half is used).  Returns the key, or NULL with err
 * set to "PATH: reason".
 */
struct m365_key *m365_key_load_public(const char *path, struct m365_err *err);

/* Frees a key; NULL is a no-op. */
void m365_key_free(struct m365_key *k);

/*
 * Signs version (with sha256, the hex SHA-256 of its document, and
 * published_at, its publication time) with a private key into out
 * (M365_SIG_HEX + 1 bytes).  Returns 0, or -1 with err set.
 */
int m365_sign_version(const struct m365_key *k, const char *version,
                      const char *sha256, long long published_at, char *out,
                      struct m365_err *err);

/*
 * Verifies sig (hex, as m365_sign_version() writes it; "" or NULL for
 * none) over version, sha256 and published_at.  Returns 0 when it is valid, or
 * -1 with err set to "version V: no signature" or "version V: bad signature"
 * (M365_E_REFUSED).  Thread-safe: k is only read.
 */
int m365_verify_version(const struct m365_key *k, const char *version,
                        const char *sha256, long long published_at,
                        const char *sig, struct m365_err *err);

#endif
