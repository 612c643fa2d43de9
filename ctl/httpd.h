/*
 * httpd.h - a small HTTP/1.1 server for one resource (m365ctl metrics
 * --listen): GET and HEAD of one path, one request per connection.
 *
 * One thread, one poll() loop, non-blocking sockets.  Its bounds: at most
 * HTTPD_MAX_CONNS connections at once (the ones beyond are accepted and
 * closed at once), a request head of at most HTTPD_HEAD_MAX bytes (431
 * beyond), HTTPD_HEAD_SECONDS from the connection to the end of the head,
 * HTTPD_SEND_SECONDS for the client to take the answer; a slow client is
 * dropped.  Clients are untrusted: the head is checked strictly and
 * answered 400 when malformed.
 */
#ifndef M365CTL_HTTPD_H
#define M365CTL_HTTPD_H

#include <stddef.h>

#include "m365_err.h"

#define HTTPD_MAX_CONNS 32
#define HTTPD_HEAD_MAX 8192
#define HTTPD_HEAD_SECONDS 5
#define HTTPD_SEND_SECONDS 10

/* The resource served. */
struct httpd_resource {
	const char *path;         /* "/metrics"; a query string is ignored */
	const char *content_type; /* of the body */
	/* The body for each GET or HEAD: a malloc'd buffer, its length in
	 * *len; NULL when it cannot be made (the answer is 500). */
	char *(*render)(void *arg, size_t *len);
	void *arg;
};

struct httpd;

/*
 * Listens on addr, "IPV4:PORT", "[IPV6]:PORT", "localhost:PORT" (the
 * IPv4 loopback) or ":PORT" (every address); port 0 picks a free one.
 * SIGTERM and SIGINT are blocked from then on, for httpd_run() to take.
 * Returns the server, or NULL with err set: M365_E_INPUT for an address
 * that does not parse, M365_E_IO when it cannot listen, M365_E_NOMEM.
 */
struct httpd *httpd_open(const char *addr, struct m365_err *err);

/* The address listened on with the real port: "127.0.0.1:9365",
 * "[::1]:9365". */
const char *httpd_address(const struct httpd *h);

/*
 * Serves res until SIGTERM or SIGINT arrives: returns 0 then, or -1 with
 * err set when poll() fails.
 */
int httpd_run(struct httpd *h, const struct httpd_resource *res,
              struct m365_err *err);

/* Closes the connections and the socket, and frees h; NULL is a no-op. */
void httpd_close(struct httpd *h);

#endif
