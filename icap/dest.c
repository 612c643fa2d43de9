/*
 * dest.c - an HTTP request's destination from its request line and Host
 * header, for the ICAP service (RFC 9112 section 3.2, RFC 3986 section 3.2).
 */
#include <stdbool.h>
#include <string.h>

#include "dest.h"

#define METHOD_MAX 32
#define STR(x) STR_(x)
#define STR_(x) #x
/*
 * Character classes, looked up in a table: the C library's strspn() and
 * strcspn() build a table of their own on every call, which cost more than
 * the rest of the request's decision.
 */
enum {
	C_CTL = 1,     /* a control character, NUL excepted */
	C_ALPHA = 2,   /* [A-Za-z] */
	C_DIGIT = 4,   /* [0-9] */
	C_SCHEME = 8,  /* [+-.], after the first letter of a scheme */
	C_SP = 16,     /* SP */
	C_OWS = 32,    /* SP, HTAB */
	C_AUTHEND = 64 /* "/?#": where a URL's authority ends */
};

/* The classes of each byte: ASCII below, none for bytes >= 0x80. */
/* clang-format off */
static const unsigned char cls_table[256] = {
	 0,  1,  1,  1,  1,  1,  1,  1,  1, 33,  1,  1,  1,  1,  1,  1,  /* 0x00 */
	 1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  1,  /* 0x10 */
	48,  0,  0, 64,  0,  0,  0,  0,  0,  0,  0,  8,  0,  8,  8, 64,  /* 0x20 */
	 4,  4,  4,  4,  4,  4,  4,  4,  4,  4,  0,  0,  0,  0,  0, 64,  /* 0x30 */
	 0,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0x40 */
	 2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  0,  0,  0,  0,  0,  /* 0x50 */
	 0,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0x60 */
	 2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  0,  0,  0,  0,  1,  /* 0x70 */
};
/* clang-format on */

static unsigned
cls(char ch)
{
	return cls_table[(unsigned char)ch];
}

/* Length of the run at s of bytes in classes mask (strspn()). */
static size_t
run_of(const char *s, unsigned mask)
{
	size_t n = 0;

	while (cls(s[n]) & mask)
		n++;
	return n;
}

/* Length of the run at s up to a NUL or a byte in mask (strcspn()). */
static size_t
run_until(const char *s, unsigned mask)
{
	size_t n = 0;

	while (s[n] != '\0' && !(cls(s[n]) & mask))
		n++;
	return n;
}

/* Part of a C string; a request target ends at a SP, a Host value at OWS or
 * NUL, so run_of() and run_until() stop there when SP and OWS stop them. */
struct span {
	const char *p;
	size_t n;
};

/* Header classes for host_header(). */
enum { NOT_HOST, HOST, HOST_SPACE_BEFORE_COLON };

static const struct {
	const char *name;
	const char *port;
} schemes[] = {
    {"http", "80"}, {"https", "443"}, {"ws", "80"},
    {"wss", "443"}, {"ftp", "21"},
};

/* True when s starts with word, a lowercase word of letters, in any case. */
static bool
ci_prefix(const char *s, const char *word)
{
	for (; *word != '\0' && (*s | 0x20) == *word; s++, word++)
		;
	return *word == '\0';
}

static enum dest_status
fail(struct dest *out, enum dest_status status, const char *why)
{
	out->from = DEST_FROM_NONE;
	out->host[0] = '\0';
	out->port[0] = '\0';
	out->why = why;
	return status;
}

/* NULL when h may be a host (split_authority refused "@"), else why not. */
static const char *
check_host(struct span h)
{
	if (h.n == 0)
		return "empty host";
	if (h.n > DEST_HOST_MAX)
		return "host longer than " STR(DEST_HOST_MAX) " bytes";
	if (run_until(h.p, C_CTL | C_SP | C_AUTHEND) < h.n)
		return "forbidden character in host";
	return NULL;
}

/* Writes port p without its leading zeros into buf; NULL, or why p is bad. */
static const char *
parse_port(struct span p, char buf[6])
{
	unsigned long v = 0;
	size_t i;

	if (p.n == 0 || p.n > 5 || run_of(p.p, C_DIGIT) < p.n)
		return "bad port";
	for (i = 0; i < p.n; i++)
		v = v * 10 + (unsigned long)(p.p[i] - '0');
	if (v == 0 || v > 65535)
		return "bad port";
	for (; p.p[0] == '0'; p.n--)
		p.p++;
	memcpy(buf, p.p, p.n);
	buf[p.n] = '\0';
	return NULL;
}

/* Splits a into host and port (port->n 0 when none); NULL, or why not. */
static const char *
split_authority(struct span a, struct span *host, struct span *port)
{
	const char *end = a.p + a.n, *c;

	port->n = 0;
	if (memchr(a.p, '@', a.n) != NULL)
		return "userinfo in authority";
	if (a.n > 0 && a.p[0] == '[') {
		if ((c = memchr(a.p, ']', a.n)) == NULL)
			return "unclosed IPv6 bracket";
		/* the brackets stay: the core's normaliser takes them off an
		 * IPv6 literal and refuses them around anything else */
		host->p = a.p;
		host->n = (size_t)(c + 1 - a.p);
		if (host->n == 2)
			return "empty IPv6 brackets";
		if (++c == end)
			return NULL;
		if (*c != ':')
			return "junk after IPv6 literal";
	} else {
		c = memchr(a.p, ':', a.n);
		host->p = a.p;
		host->n = c != NULL ? (size_t)(c - a.p) : a.n;
		if (c == NULL)
			return NULL;
		if (memchr(c + 1, ':', (size_t)(end - c - 1)) != NULL)
			return "unbracketed IPv6 literal";
	}
	port->p = c + 1;
	port->n = (size_t)(end - port->p);
	return NULL;
}

/* Fills out from authority a; dflt is the port when a has none, or NULL
 * when a port is needed and no_port says so. */
static enum dest_status
take_authority(struct span a, enum dest_source from, const char *dflt,
               const char *no_port, struct dest *out)
{
	struct span host, port;
	const char *why;

	if ((why = split_authority(a, &host, &port)) != NULL ||
	    (why = check_host(host)) != NULL)
		return fail(out, DEST_MALFORMED, why);
	if (port.n == 0 && dflt == NULL)
		return fail(out, DEST_MALFORMED, no_port);
	if (port.n == 0)
		strcpy(out->port, dflt);
	else if ((why = parse_port(port, out->port)) != NULL)
		return fail(out, DEST_MALFORMED, why);
	memcpy(out->host, host.p, host.n);
	out->host[host.n] = '\0';
	out->from = from;
	out->why = NULL;
	return DEST_OK;
}

static enum dest_status
from_connect(struct span t, struct dest *out)
{
	if (run_until(t.p, C_SP | C_AUTHEND) < t.n)
		return fail(out, DEST_MALFORMED,
		            "CONNECT target is not host:port");
	return take_authority(t, DEST_FROM_CONNECT, NULL,
	                      "CONNECT without a port", out);
}

/* Length of the scheme when t starts with scheme "://", else 0. */
static size_t
scheme_len(struct span t)
{
	size_t n = run_of(t.p, C_ALPHA | C_DIGIT | C_SCHEME);

	if (!(cls(t.p[0]) & C_ALPHA) || strncmp(t.p + n, "://", 3) != 0)
		return 0;
	return n;
}

static enum dest_status
from_url(struct span t, size_t slen, struct dest *out)
{
	const char *dflt = NULL;
	struct span a;
	size_t i;

	for (i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++)
		if (strlen(schemes[i].name) == slen &&
		    ci_prefix(t.p, schemes[i].name))
			dflt = schemes[i].port;
	a.p = t.p + slen + 3;
	a.n = run_until(a.p, C_SP | C_AUTHEND);
	return take_authority(a, DEST_FROM_URL, dflt,
	                      "unknown scheme without a port", out);
}

/* Classifies header line; for a Host header, *value is its trimmed value. */
static int
host_header(const char *line, struct span *value)
{
	const char *c, *end;

	if (!ci_prefix(line, "host"))
		return NOT_HOST;
	c = line + 4 + run_of(line + 4, C_OWS);
	if (*c != ':')
		return NOT_HOST;
	if (c != line + 4)
		return HOST_SPACE_BEFORE_COLON;
	c += 1 + run_of(c + 1, C_OWS);
	for (end = c + strlen(c); end > c && (cls(end[-1]) & C_OWS); end--)
		;
	value->p = c;
	value->n = (size_t)(end - c);
	return HOST;
}

static enum dest_status
from_host(const char *const *headers, size_t n_headers, struct dest *out)
{
	struct span value = {.p = NULL, .n = 0}, v;
	size_t i, count = 0;
	int kind;

	for (i = 0; headers != NULL && i < n_headers; i++) {
		if (headers[i] == NULL)
			continue;
		kind = host_header(headers[i], &v);
		if (kind == HOST_SPACE_BEFORE_COLON)
			return fail(out, DEST_MALFORMED,
			            "space before colon in Host header");
		if (kind == HOST && count++ > 0)
			return fail(out, DEST_MALFORMED, "two Host headers");
		if (kind == HOST)
			value = v;
	}
	if (count == 0)
		return fail(out, DEST_MISSING, "no Host header");
	if (value.n == 0)
		return fail(out, DEST_MISSING, "empty Host header");
	return take_authority(value, DEST_FROM_HOST, "80", NULL, out);
}

/*
 * Splits line into method and target; NULL, or why line is malformed.  The
 * method and the version are checked byte by byte; the target only for
 * where it ends (the parts of it that make the destination are checked
 * where they are parsed): the path does not decide a destination, and
 * scanning it byte by byte cost more than the rest of the decision.
 */
static const char *
split_request_line(const char *line, struct span *method, struct span *target)
{
	static const char ctl[] = "control character in request line";
	const char *version, *sp;
	size_t len = strlen(line), n;

	method->p = line;
	method->n = run_of(line, C_ALPHA);
	if (cls(line[method->n]) & C_CTL)
		return ctl;
	if (method->n == 0 || method->n > METHOD_MAX || line[method->n] != ' ')
		return "bad method or no request target";
	target->p = line + method->n + 1;
	sp = memchr(target->p, ' ', len - method->n - 1);
	target->n = sp ? (size_t)(sp - target->p) : len - method->n - 1;
	if (target->n == 0)
		return "empty request target";
	if (sp == NULL)
		return "request line without a version";
	version = sp + 1;
	n = run_until(version, C_SP | C_CTL);
	if (cls(version[n]) & C_CTL)
		return ctl;
	if (version[n] == ' ')
		return "extra space in request line";
	if (strncmp(version, "HTTP/", 5) != 0)
		return "bad HTTP version";
	return NULL;
}

enum dest_status
dest_parse(const char *request_line, const char *const *headers,
           size_t n_headers, struct dest *out)
{
	struct span method, target;
	const char *why;
	size_t slen;

	if (request_line == NULL)
		return fail(out, DEST_MISSING, "no request line");
	if ((why = split_request_line(request_line, &method, &target)) != NULL)
		return fail(out, DEST_MALFORMED, why);
	if (method.n == 7 && memcmp(method.p, "CONNECT", 7) == 0)
		return from_connect(target, out);
	if ((slen = scheme_len(target)) > 0)
		return from_url(target, slen, out);
	if (target.p[0] == '/' || (target.n == 1 && target.p[0] == '*'))
		return from_host(headers, n_headers, out);
	return fail(out, DEST_MALFORMED,
	            "request target is not a URL, a path or *");
}
