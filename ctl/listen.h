/*
 * listen.h - the listening socket of a small server: its address as an
 * admin writes it, the socket, and the address it got.
 */
#ifndef M365CTL_LISTEN_H
#define M365CTL_LISTEN_H

#include <stddef.h>
#include <sys/socket.h>

#include "m365_err.h"

/* "[" IPv6 "]:" port, and a NUL */
#define LISTEN_ADDR_MAX 64

/*
 * Parses addr, "IPV4:PORT", "[IPV6]:PORT", "localhost:PORT" (the IPv4
 * loopback) or ":PORT" (every address, IPv6 and IPv4), into ss and *len.
 * 0, or -1 with err set (M365_E_INPUT).
 */
int listen_parse(const char *addr, struct sockaddr_storage *ss, socklen_t *len,
                 struct m365_err *err);

/*
 * A non-blocking socket bound to ss and listening (SO_REUSEADDR); for
 * ":PORT" on a host without IPv6, every IPv4 address.  The socket, or -1
 * with err set (M365_E_IO) naming addr.
 */
int listen_on(const char *addr, struct sockaddr_storage *ss, socklen_t len,
              struct m365_err *err);

/* The address fd is bound to, "1.2.3.4:PORT" or "[::1]:PORT", into buf;
 * 0, or -1 with err set. */
int listen_name(int fd, char *buf, size_t buflen, struct m365_err *err);

#endif
