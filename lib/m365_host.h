/*
 * m365_host.h - the host normaliser of contract.md ("Normalising a host").
 *
 * Every front end hands the raw value it received (Squid's %DST or SNI,
 * percent-encoded or not; an ICAP URL host; an admin's argument) to
 * m365_host_normalize() and matches only what comes out.
 */
#ifndef M365_HOST_H
#define M365_HOST_H

#include <stddef.h>
#include <stdint.h>

#define M365_HOST_MAX 253 /* longest valid hostname */

enum m365_host_kind {
	M365_HOST_NONE = 0, /* "-" or empty: no value */
	M365_HOST_NAME,     /* a valid hostname, lowercase, no trailing dot */
	M365_HOST_IPV4,     /* an IPv4 literal (also an IPv4-mapped IPv6) */
	M365_HOST_IPV6,     /* an IPv6 literal */
	M365_HOST_INVALID   /* anything else: never a bypass */
};

struct m365_host {
	enum m365_host_kind kind;
	size_t len; /* strlen(name) */
	/* normalised text (names and IPs), NUL-terminated; the spare bytes
	 * after it let the matcher read it a word at a time */
	char name[M365_HOST_MAX + 8];
	uint8_t addr[16]; /* IPv4: first 4 bytes; IPv6: 16 */
};

/*
 * Normalises in[0..len) (need not be NUL-terminated) into out and returns
 * out->kind.  Steps, in order: percent-decode, "-"/empty is NONE, strip one
 * pair of brackets, lowercase ASCII, drop one trailing dot, IP literal by
 * inet_pton, otherwise a hostname of labels [a-z0-9_-]{1,63} and at most 253
 * characters.  Never fails: bad input is M365_HOST_INVALID.
 */
enum m365_host_kind m365_host_normalize(const char *in, size_t len,
                                        struct m365_host *out);

/* The kind's name for messages: "none", "hostname", "IPv4", ... */
const char *m365_host_kind_name(enum m365_host_kind kind);

#endif
