/*
 * host_impl.h - the normaliser's view for the matcher (internal).
 *
 * The matcher needs, besides the normalised name, where each of its labels
 * starts; the normaliser finds them in the same pass that validates,
 * lowercases and copies the name.
 */
#ifndef M365_HOST_IMPL_H
#define M365_HOST_IMPL_H

#include <stdint.h>

#include "m365_host.h"

/* At most 127 labels fit in 253 characters. */
#define HOST_LABELS_MAX 128

/* Where the labels of a normalised name start. */
struct host_labels {
	unsigned n; /* labels; 0 unless a NAME */
	/* offset of each label in name (room for one per input byte: the
	 * normaliser writes before it validates) */
	uint8_t start[M365_HOST_MAX + 3];
};

/* host_scan() flags */
#define HOST_IP_TEXT 1u /* write an IP literal's canonical text */

/*
 * m365_host_normalize() that also fills lb for a NAME (lb->n is 0 for
 * every other kind).  After it, out->name holds at least 7 zero bytes
 * after its NUL, so the matcher may read it a word at a time.  Without
 * HOST_IP_TEXT in flags, an IP literal's name is left empty (len 0): for
 * a caller that needs its address only.
 */
enum m365_host_kind host_scan(const char *in, size_t len, struct m365_host *out,
                              struct host_labels *lb, unsigned flags);

/*
 * True when s[0..len) is a valid normalised hostname: labels of 1 to 63
 * characters from [a-z0-9_-] separated by single dots, at most 253
 * characters.
 */
int host_valid_name(const char *s, size_t len);

/* Fills lb with the label starts of the valid name s[0..len). */
void host_find_labels(const char *s, size_t len, struct host_labels *lb);

/* Zeroes the 8 bytes after a name of len bytes (see host_scan()). */
void host_pad(struct m365_host *out, size_t len);

/*
 * True when s[0..len) (digits and dots) is a dotted quad as inet_pton
 * takes it: four parts of one to three digits, no leading zero, each at
 * most 255.  Fills addr (4 bytes).
 */
int host_dotted_quad(const char *s, size_t len, uint8_t *addr);

/*
 * True when the NUL-terminated s[0..n) (decoded, lowercase, without
 * brackets and trailing dot) is an IP literal: inet_pton's AF_INET, or its
 * AF_INET6 (an IPv4-mapped one is its IPv4 address).  Fills out's kind,
 * addr, and (with HOST_IP_TEXT in flags; else empty) name (canonical
 * text, padded) and len.
 */
int host_ip_literal(const char *s, size_t n, struct m365_host *out,
                    unsigned flags);

/*
 * The general path's answer for an IPv6 literal that needs no decoding
 * (no '%'), straight from the input: true when it decided (out filled,
 * valid or INVALID), false to leave the input to the general path.
 */
int host_ip_direct(const char *in, size_t len, struct m365_host *out,
                   unsigned flags);

#endif
