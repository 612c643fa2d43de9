/*
 * icap_headers.h - a verdict as the ICAP headers srv_m365_bypass adds to
 * its 204 answer: X-M365-Category, X-M365-Service, X-M365-Set, and the
 * X-Next-Services header that ends (or redirects) Squid's adaptation
 * chain.  Pure formatting, without c-icap, so that it is unit-tested.
 */
#ifndef ICAP_HEADERS_H
#define ICAP_HEADERS_H

#include <stddef.h>

#include "m365_classify.h"

/* Always enough for one header line of this file. */
#define ICAP_HEADER_MAX 512

/* An empty X-Next-Services: Squid (routing=on) ends the adaptation plan. */
#define ICAP_END_OF_CHAIN "X-Next-Services:"

/*
 * Writes the header line for one of a verdict's notes, without CRLF:
 * m365_category, m365_service and m365_set become "X-M365-Category: v",
 * "X-M365-Service: v" and "X-M365-Set: v".  Bytes of the value that may
 * not appear in a header field value (controls, CR, LF, non-ASCII) become
 * '?', so a value can never add a header.  Returns the length, 0 for a
 * note that has no ICAP header (message), or -1 when buf is too small.
 */
int icap_note_header(const struct m365_note *note, char *buf, size_t len);

/*
 * Writes "X-Next-Services: LIST" (or "X-Next-Services:" for an empty or
 * NULL list, which ends Squid's adaptation plan) into buf.  Returns the
 * length, or -1 when buf is too small or LIST holds a byte that may not
 * appear in a header value.
 */
int icap_next_services_header(const char *list, char *buf, size_t len);

/*
 * Checks a service list as c-icap.conf gives it (m365_bypass.NextServices),
 * its arguments names[0..n): names of [A-Za-z0-9._-] separated by commas
 * and optional spaces ("av, dlp" arrives as "av," and "dlp").  Writes the
 * canonical "a, b" form into buf.  Returns 0, or -1 with the reason in err
 * (M365_E_INPUT).
 */
int icap_service_list(const char *const *names, size_t n, char *buf, size_t len,
                      struct m365_err *err);

#endif
