/*
 * dest.h - the destination (host and port) of an HTTP request, as the ICAP
 * service sees it: the request line and the header lines of the
 * encapsulated request.
 *
 * Pure C, no c-icap dependency: the service passes ci_headers_list_t's
 * headers[0] as the request line and &headers[1], used - 1 as the headers.
 */
#ifndef M365_ICAP_DEST_H
#define M365_ICAP_DEST_H

#include <stddef.h>

/* The longest host dest_parse() accepts, in bytes, without the NUL. */
#define DEST_HOST_MAX 1024

/* What dest_parse() found: a destination, none, or a request to refuse. */
enum dest_status { DEST_OK = 0, DEST_MISSING, DEST_MALFORMED };

/* Where the destination came from. */
enum dest_source {
	DEST_FROM_NONE = 0,
	DEST_FROM_CONNECT,
	DEST_FROM_URL,
	DEST_FROM_HOST
};

/* dest_parse()'s answer; the caller owns it (on the stack is fine). */
struct dest {
	enum dest_source from;        /* DEST_FROM_NONE unless DEST_OK */
	char host[DEST_HOST_MAX + 1]; /* as written, brackets included */
	char port[6];                 /* decimal, without leading zeros */
	const char *why;              /* static reason when not DEST_OK */
};

/*
 * Finds the destination of the request whose request line is request_line
 * ("METHOD SP request-target SP HTTP-version") and whose header lines
 * ("Name: value", no CR/LF at the end) are headers[0..n_headers).
 *
 * The destination is the CONNECT authority, else the authority of an
 * absolute URL (Host headers are ignored for both), else, for origin-form and
 * asterisk-form targets, the single Host header.  A port left out or empty
 * is the scheme's default (80 for a Host header); CONNECT needs a port.
 * out->port is the port's value in decimal without leading zeros ("0443"
 * comes out as "443").  The host is copied as written: not lowercased, not
 * percent-decoded, an IPv6 literal in its brackets (m365_classify() takes
 * them off an IPv6 literal and refuses them around anything else).
 *
 * Returns DEST_OK with out->from, out->host and out->port set and out->why
 * NULL.  Returns DEST_MISSING when there is no request line, or an
 * origin-form or asterisk-form request has no Host header or an empty one;
 * DEST_MALFORMED when anything is wrong or ambiguous (two Host headers,
 * userinfo, a bad port, a host longer than DEST_HOST_MAX bytes, ...).  On
 * either, out->from is DEST_FROM_NONE, out->host and out->port are empty
 * strings and out->why is a short static English reason.
 *
 * request_line may be NULL; headers may be NULL (no headers), and a NULL
 * entry in it is skipped; out must not be NULL.  Nothing is allocated
 * and nothing is kept: the caller owns all the memory, and the function is
 * safe to call from several threads at once.
 */
enum dest_status dest_parse(const char *request_line,
                            const char *const *headers, size_t n_headers,
                            struct dest *out);

#endif
