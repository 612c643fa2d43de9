/*
 * bench_icap.c - an ICAP load generator: drives a c-icap service with REQMOD
 * requests the way Squid does and measures it.
 *
 *     bench_icap -p PORT [-H 127.0.0.1] -s SERVICE [-n REQUESTS]
 *                [-c CONNECTIONS] [-t TIMEOUT_S] [-A]
 *
 * Keeps CONNECTIONS (default 8) keep-alive connections to HOST:PORT (IPv4)
 * with one request in flight on each (Squid does not pipeline ICAP), from a
 * poll() loop, until REQUESTS (default 200,000) are answered.  Each request
 * is a REQMOD with Allow: 204, Preview: 0 and Encapsulated: req-hdr=0,
 * null-body=N around an HTTP request head taken round-robin from a fixed mix,
 * half Microsoft 365 destinations, half other sites, built before the clock
 * starts.  A response is read through its ICAP head and what its
 * Encapsulated header announces (HTTP heads, a chunked body); 1xx answers
 * are skipped, "Connection: close" reconnects.  At the end it prints
 *
 *     SERVICE: N requests in S s = X req/s; 204 A (X-Next-Services B),
 *         200 C, other D
 *
 * on one line; B counts the 204s carrying X-Next-Services (m365_bypass's
 * bypass signal).  -A, for debugging the parser, leaves out Allow: 204 and
 * Preview (a 204 inside a preview is always allowed) and sends a small
 * chunked req-body, so that echo answers 200 with an encapsulated body.
 *
 * Exit 0 when every request was answered; 1 on a connection error, a
 * malformed response or no answer within TIMEOUT_S (default 10) seconds;
 * 2 on a usage error.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bench_clock.h"

#define RD_SIZE 65536
#define MAX_CONNS 1000

/* --- the request mix --- */

#define UA_EDGE                                                                \
	"User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) "               \
	"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "             \
	"Safari/537.36 Edg/124.0.2478.80\r\n"
#define UA_FIREFOX                                                             \
	"User-Agent: Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) "       \
	"Gecko/20100101 Firefox/125.0\r\n"
#define UA_TEAMS                                                               \
	"User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) "               \
	"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "             \
	"Safari/537.36 Teams/24074.2321.2810.3500/49\r\n"
#define ACCEPT_HTML                                                            \
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,"       \
	"image/avif,image/webp,*/*;q=0.8\r\n"
#define ACCEPT_LANG "Accept-Language: en-GB,en;q=0.9,de;q=0.8\r\n"
#define ACCEPT_ENC "Accept-Encoding: gzip, deflate\r\n"
#define PROXY_KA "Proxy-Connection: keep-alive\r\n"
#define PROXY_AUTH                                                             \
	"Proxy-Authorization: Basic YWxpY2UuZXhhbXBsZTpjb3JyZWN0LWhvcnNl\r\n"
#define VIA "Via: 1.1 branch-gw.corp.example (squid/5.7)\r\n"
#define XFF "X-Forwarded-For: 10.20.30.40\r\n"
/* The headers after Host and User-Agent in a CONNECT. */
#define CONNECT_TAIL                                                           \
	PROXY_KA PROXY_AUTH VIA XFF "Connection: keep-alive\r\n\r\n"

static const char *const heads[] = {
    /* Microsoft 365 */
    "GET http://outlook.office365.com/owa/ HTTP/1.1\r\n"
    "Host: outlook.office365.com\r\n" UA_EDGE ACCEPT_HTML ACCEPT_LANG ACCEPT_ENC
    "Cookie: ClientId=4A1C0E2B9D7F4E61A3B5C7D9E1F3A5B7; "
    "OIDC=1; X-OWA-RedirectHistory=Ao2rY8Y\r\n" PROXY_KA "\r\n",
    "CONNECT teams.microsoft.com:443 HTTP/1.1\r\n"
    "Host: teams.microsoft.com:443\r\n" UA_TEAMS CONNECT_TAIL,
    "GET /a HTTP/1.1\r\n"
    "Host: x.y.teams.microsoft.com\r\n" UA_TEAMS
    "Accept: application/json, text/plain, */*\r\n" ACCEPT_LANG ACCEPT_ENC
    "Authorization: Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.c2ln\r\n"
    "X-Ms-Client-Version: 1415/24040122327\r\n"
    "Referer: https://teams.microsoft.com/\r\n\r\n",
    "CONNECT 52.113.194.132:443 HTTP/1.1\r\n"
    "Host: 52.113.194.132:443\r\n" UA_TEAMS CONNECT_TAIL,
    "CONNECT [2603:1063::1]:443 HTTP/1.1\r\n"
    "Host: [2603:1063::1]:443\r\n" UA_EDGE CONNECT_TAIL,
    "GET http://login.microsoftonline.com/common/oauth2/v2.0/authorize"
    "?client_id=00000002-0000-0ff1-ce00-000000000000 HTTP/1.1\r\n"
    "Host: login.microsoftonline.com\r\n" UA_EDGE ACCEPT_HTML ACCEPT_LANG
        ACCEPT_ENC
    "Cookie: esctx=AQABAAAAAAD; x-ms-gateway-slice=estsfd\r\n" PROXY_KA "\r\n",
    /* other sites */
    "GET http://www.example.com/ HTTP/1.1\r\n"
    "Host: www.example.com\r\n" UA_FIREFOX ACCEPT_HTML ACCEPT_LANG ACCEPT_ENC
    "Cookie: session=9f86d081884c7d65; consent=yes; theme=dark\r\n" PROXY_KA
    "Upgrade-Insecure-Requests: 1\r\n\r\n",
    "CONNECT www.bbc.co.uk:443 HTTP/1.1\r\n"
    "Host: www.bbc.co.uk:443\r\n" UA_EDGE CONNECT_TAIL,
    "GET http://cdn.example.net:8080/assets/app.3f9a2c.js HTTP/1.1\r\n"
    "Host: cdn.example.net:8080\r\n" UA_EDGE
    "Accept: */*\r\n" ACCEPT_LANG ACCEPT_ENC
    "Referer: http://www.example.com/\r\n"
    "If-None-Match: \"5e1f-61a9c2b7d3e40\"\r\n" PROXY_KA "\r\n",
    "CONNECT teams.microsoft.com.evil.example:443 HTTP/1.1\r\n"
    "Host: teams.microsoft.com.evil.example:443\r\n" UA_EDGE CONNECT_TAIL,
    "GET /news/technology HTTP/1.1\r\n"
    "Host: www.bbc.co.uk\r\n" UA_FIREFOX ACCEPT_HTML ACCEPT_LANG ACCEPT_ENC
    "Cookie: ckns_policy=111; ckns_explicit=1; atuserid=%7B%22val%22%7D\r\n"
    "Referer: http://www.bbc.co.uk/news\r\n\r\n",
    "GET http://203.0.113.7/status.json HTTP/1.1\r\n"
    "Host: 203.0.113.7\r\n" UA_FIREFOX
    "Accept: application/json\r\n" ACCEPT_LANG ACCEPT_ENC
    "Cookie: _ga=GA1.2.1234567890.1700000000; _gid=GA1.2.98765.1700000000\r\n"
    "Referer: http://intranet.corp.example/dashboard\r\n"
    "Cache-Control: no-cache\r\n" PROXY_KA "\r\n",
};
#define NHEADS (sizeof(heads) / sizeof(heads[0]))

/* The -A body: 11 bytes in one chunk, then the last chunk. */
#define DEBUG_BODY "b\r\nhello world\r\n0\r\n\r\n"

struct opts {
	const char *host, *service;
	int port, conns, timeout_s;
	size_t n;
	bool no204; /* -A */
};

struct msg {
	char *buf;
	size_t len;
};

struct conn {
	int fd;
	const struct msg *m; /* request in flight, NULL when idle */
	size_t wr_off;       /* bytes of m written */
	double deadline;     /* when the answer to m is overdue */
	size_t rd_len;
	char rd[RD_SIZE];
};

struct resp {
	int status;
	bool close, xnext;
};

struct stats {
	size_t sent, done, s204, xnext, s200, other;
};

static struct opts o = {
    .host = "127.0.0.1", .n = 200000, .conns = 8, .timeout_s = 10};
static struct msg msgs[NHEADS];
static struct stats st;

static void
die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench_icap: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Builds the complete ICAP request for every head of the mix. */
static void
build_requests(void)
{
	for (size_t i = 0; i < NHEADS; i++) {
		size_t hl = strlen(heads[i]), cap = hl + 512;
		char *b = malloc(cap);
		int n;

		if (b == NULL)
			die("out of memory");
		n = snprintf(b, cap,
		             "REQMOD icap://%s:%d/%s ICAP/1.0\r\n"
		             "Host: %s:%d\r\n"
		             "Date: Mon, 25 Nov 2024 10:00:00 GMT\r\n"
		             "X-Client-IP: 10.20.30.%zu\r\n"
		             "%s"
		             "Encapsulated: req-hdr=0, %s=%zu\r\n\r\n%s%s",
		             o.host, o.port, o.service, o.host, o.port, 40 + i,
		             o.no204 ? "" : "Allow: 204\r\nPreview: 0\r\n",
		             o.no204 ? "req-body" : "null-body", hl, heads[i],
		             o.no204 ? DEBUG_BODY : "");
		if (n < 0 || (size_t)n >= cap)
			die("request %zu too long", i);
		msgs[i].buf = b;
		msgs[i].len = (size_t)n;
	}
}

/* --- connections --- */

/* Connects to the server, waiting at most the timeout (SO_SNDTIMEO bounds
 * a blocking connect); returns a non-blocking socket, or exits. */
static int
connect_server(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	                         .sin_port = htons((uint16_t)o.port)};
	struct timeval tv = {.tv_sec = o.timeout_s};
	int fd, one = 1;

	if (inet_pton(AF_INET, o.host, &sa.sin_addr) != 1)
		die("-H %s: not an IPv4 address", o.host);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("connect to %s:%d: %s", o.host, o.port,
		    errno == EINPROGRESS ? "timed out" : strerror(errno));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Writes what the socket takes of the request in flight. */
static void
send_more(struct conn *c)
{
	ssize_t n = write(c->fd, c->m->buf + c->wr_off, c->m->len - c->wr_off);

	if (n < 0 && errno != EAGAIN && errno != EINTR)
		die("write: %s", strerror(errno));
	if (n > 0)
		c->wr_off += (size_t)n;
}

/* Puts the next request of the mix in flight on c, or closes c when all
 * requests are sent. */
static void
start_request(struct conn *c)
{
	if (st.sent == o.n) {
		close(c->fd);
		c->fd = -1;
		c->m = NULL;
		return;
	}
	c->m = &msgs[st.sent++ % NHEADS];
	c->wr_off = 0;
	c->deadline = bench_now() + o.timeout_s;
	send_more(c);
}

/* --- parsing responses --- */

/* The value of header NAME in the ICAP head h (which ends in CRLFCRLF), or
 * NULL; the value ends at the next CR. */
static const char *
find_header(const char *h, size_t len, const char *name)
{
	size_t nl = strlen(name);
	const char *p = h, *end = h + len;

	while ((p = memmem(p, (size_t)(end - p), "\r\n", 2)) != NULL) {
		p += 2;
		if ((size_t)(end - p) > nl && strncasecmp(p, name, nl) == 0 &&
		    p[nl] == ':')
			return p + nl + 1 + strspn(p + nl + 1, " \t");
	}
	return NULL;
}

/* Reads an Encapsulated value ("req-hdr=0, null-body=N"): sets *off to the
 * last entity's offset and *chunked when that entity is a body (req-body,
 * res-body, opt-body) rather than null-body.  Returns -1 if malformed. */
static int
parse_encapsulated(const char *v, size_t *off, bool *chunked)
{
	const char *eol = strchr(v, '\r'),
	           *eq = memrchr(v, '=', (size_t)(eol - v)), *k;
	char *e;

	if (eq == NULL)
		return -1;
	for (k = eq; k > v && k[-1] != ' ' && k[-1] != ','; k--)
		;
	*chunked = strncmp(k, "null-body=", 10) != 0;
	*off = strtoul(eq + 1, &e, 10);
	return e == eq + 1 ? -1 : 0;
}

/* Length of the chunked body at p (through the last chunk, which has no
 * trailer in ICAP), 0 if it is not complete yet, -1 if malformed. */
static long
chunked_len(const char *p, size_t len)
{
	size_t pos = 0, size = 1;

	while (size > 0) {
		const char *eol = memmem(p + pos, len - pos, "\r\n", 2);

		if (eol == NULL)
			return 0;
		if (!isxdigit((unsigned char)p[pos])) /* strtoul stops at CR */
			return -1;
		if ((size = strtoul(p + pos, NULL, 16)) > RD_SIZE)
			return -1;
		pos = (size_t)(eol - p) + 2;
		if (len - pos < size + 2)
			return 0;
		if (memcmp(p + pos + size, "\r\n", 2) != 0)
			return -1;
		pos += size + 2;
	}
	return (long)pos;
}

/* Parses one response at the start of buf; returns its length, 0 if it is
 * not complete yet, -1 if malformed. */
static long
parse_response(const char *buf, size_t len, struct resp *r)
{
	const char *eoh = memmem(buf, len, "\r\n\r\n", 4), *v;
	size_t hl, off = 0;
	bool chunked = false;
	long bl = 0;

	if (eoh == NULL)
		return 0;
	hl = (size_t)(eoh - buf) + 4;
	if (hl < 13 || memcmp(buf, "ICAP/1.0 ", 9) != 0)
		return -1;
	r->status = atoi(buf + 9);
	if (r->status < 100 || r->status > 999)
		return -1;
	v = find_header(buf, hl, "Connection");
	r->close = v != NULL && strncasecmp(v, "close", 5) == 0;
	r->xnext = find_header(buf, hl, "X-Next-Services") != NULL;
	v = find_header(buf, hl, "Encapsulated");
	if (v != NULL && parse_encapsulated(v, &off, &chunked) < 0)
		return -1;
	if (len - hl < off)
		return 0;
	if (chunked && (bl = chunked_len(buf + hl + off, len - hl - off)) <= 0)
		return bl;
	return (long)(hl + off) + bl;
}

/* Counts a complete response on c, reconnects after "Connection: close",
 * and starts the next request. */
static void
complete(struct conn *c, const struct resp *r)
{
	st.done++;
	if (r->status == 204) {
		st.s204++;
		st.xnext += r->xnext;
	} else if (r->status == 200) {
		st.s200++;
	} else {
		st.other++;
	}
	if (c->rd_len != 0)
		die("%zu bytes after a response (no request pending)",
		    c->rd_len);
	c->m = NULL;
	if (r->close) {
		close(c->fd);
		c->fd = st.sent < o.n ? connect_server() : -1;
	}
	if (c->fd >= 0)
		start_request(c);
}

/* Reads from c and handles the response when it is complete. */
static void
on_readable(struct conn *c)
{
	ssize_t n = read(c->fd, c->rd + c->rd_len, RD_SIZE - c->rd_len);
	struct resp r;
	long len;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0)
		die("read: %s", strerror(errno));
	if (n == 0)
		die("server closed the connection with a request in flight");
	c->rd_len += (size_t)n;
	while ((len = parse_response(c->rd, c->rd_len, &r)) > 0) {
		c->rd_len -= (size_t)len;
		memmove(c->rd, c->rd + len, c->rd_len);
		if (r.status >= 200) {
			complete(c, &r);
			return;
		}
	}
	if (len < 0)
		die("malformed response: %.*s",
		    (int)(c->rd_len < 60 ? c->rd_len : 60), c->rd);
	if (c->rd_len == RD_SIZE)
		die("response longer than %d bytes", RD_SIZE);
}

/* The poll() loop: runs until every request is answered. */
static void
pump(struct conn *cs)
{
	struct pollfd p[MAX_CONNS];
	int nc = o.conns < 1 ? 1 : o.conns > MAX_CONNS ? MAX_CONNS : o.conns;

	while (st.done < o.n) {
		double t = bench_now(), first = t + o.timeout_s;
		int rc;

		for (int i = 0; i < nc; i++) {
			struct conn *c = &cs[i];
			bool wr = c->m != NULL && c->wr_off < c->m->len;

			p[i] = (struct pollfd){c->fd,
			                       POLLIN | (wr ? POLLOUT : 0), 0};
			if (c->m != NULL && c->deadline < t)
				die("no answer from %s within %d s", o.service,
				    o.timeout_s);
			if (c->m != NULL && c->deadline < first)
				first = c->deadline;
		}
		rc = poll(p, (nfds_t)nc, (int)((first - t) * 1000) + 1);
		if (rc < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		for (int i = 0; rc > 0 && i < nc; i++) {
			if (p[i].revents & POLLOUT)
				send_more(&cs[i]);
			if (p[i].revents & (POLLIN | POLLHUP | POLLERR))
				on_readable(&cs[i]);
		}
	}
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_icap -p PORT [-H 127.0.0.1] -s SERVICE "
	                "[-n REQUESTS] [-c CONNECTIONS] [-t TIMEOUT_S] [-A]\n"
	                "  -A  debug: no Allow: 204, no Preview, a small "
	                "req-body (echo answers 200)\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct conn *cs;
	double t0, secs;
	int c;

	while ((c = getopt(argc, argv, "p:H:s:n:c:t:A")) != -1) {
		switch (c) {
		case 'p': o.port = atoi(optarg); break;
		case 'H': o.host = optarg; break;
		case 's': o.service = optarg; break;
		case 'n': o.n = strtoull(optarg, NULL, 10); break;
		case 'c': o.conns = atoi(optarg); break;
		case 't': o.timeout_s = atoi(optarg); break;
		case 'A': o.no204 = true; break;
		default: usage();
		}
	}
	if (optind != argc || o.port <= 0 || o.port > 65535 ||
	    o.service == NULL || o.n == 0 || o.conns <= 0 ||
	    o.conns > MAX_CONNS || o.timeout_s <= 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	build_requests();
	cs = calloc((size_t)o.conns, sizeof(*cs));
	if (cs == NULL)
		die("out of memory");
	for (int i = 0; i < o.conns; i++)
		cs[i].fd = connect_server();
	t0 = bench_now();
	for (int i = 0; i < o.conns; i++)
		start_request(&cs[i]);
	pump(cs);
	secs = bench_now() - t0;
	free(cs);
	printf("%s: %zu requests in %.3f s = %.0f req/s; 204 %zu "
	       "(X-Next-Services %zu), 200 %zu, other %zu\n",
	       o.service, st.done, secs, (double)st.done / secs, st.s204,
	       st.xnext, st.s200, st.other);
	return 0;
}
