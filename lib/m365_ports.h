/*
 * m365_ports.h - sets of TCP or UDP ports, as Microsoft writes them.
 *
 * Microsoft's "tcpPorts" and "udpPorts" fields are comma-separated lists of
 * ports and "a-b" ranges, with optional spaces ("80, 443", "3478-3481").  An
 * empty string is an empty set.
 */
#ifndef M365_PORTS_H
#define M365_PORTS_H

#include <stdbool.h>
#include <stdint.h>

#include "m365_err.h"

struct m365_port_range {
	uint16_t lo, hi; /* inclusive, 1 <= lo <= hi */
};

struct m365_ports {
	uint32_t n;                /* number of ranges, sorted, merged */
	struct m365_port_range *r; /* owned; NULL when n == 0 */
};

/*
 * Parses `text` into out.  Ports are decimal, 1 to 65535; a range must not be
 * reversed.  On error returns -1 with err set to the reason (without
 * location; M365_E_INPUT, or M365_E_NOMEM); out is then empty.  The caller
 * frees out with m365_ports_free().
 */
int m365_ports_parse(const char *text, struct m365_ports *out,
                     struct m365_err *err);

/* True when port is in the set.  An empty set contains no port. */
bool m365_ports_contains(const struct m365_ports *p, unsigned port);

/*
 * Writes the set back in canonical form ("80,443,3478-3481") into buf;
 * returns buf.  Truncates (with a final "...") when buf is too small.
 */
char *m365_ports_format(const struct m365_ports *p, char *buf, size_t len);

/* Releases the ranges; p is left empty.  p may be NULL. */
void m365_ports_free(struct m365_ports *p);

#endif
