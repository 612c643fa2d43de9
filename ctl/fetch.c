/* fetch.c - HTTP GET with timeouts, a size bound and guarded redirects
 * (see fetch.h). */
#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ctl.h"
#include "fetch.h"

/* A delta-seconds beyond this is as good as this (no overflow). */
#define RETRY_AFTER_HUGE 1000000000000LL

struct sink {
	struct fetch_result *r;
	size_t cap, max;
	int too_big;
};

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	if (s->r->len + len > s->max) {
		s->too_big = 1;
		return 0;
	}
	if (s->r->len + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 65536;
		char *b;
		while (cap < s->r->len + len + 1)
			cap *= 2;
		if ((b = realloc(s->r->body, cap)) == NULL)
			return 0;
		s->r->body = b;
		s->cap = cap;
	}
	memcpy(s->r->body + s->r->len, data, len);
	s->r->len += len;
	s->r->body[s->r->len] = '\0';
	return len;
}

long long
fetch_retry_after(const char *v, size_t n)
{
	char buf[128];
	long long d = 0;
	time_t t;
	size_t i;

	while (n > 0 && isspace((unsigned char)*v))
		v++, n--;
	while (n > 0 && isspace((unsigned char)v[n - 1]))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	if (strspn(buf, "0123456789") == n) {
		for (i = 0; i < n && d < RETRY_AFTER_HUGE; i++)
			d = d * 10 + (buf[i] - '0');
		return d < RETRY_AFTER_HUGE ? d : RETRY_AFTER_HUGE;
	}
	if ((t = curl_getdate(buf, NULL)) == (time_t)-1)
		return -1;
	d = (long long)t - (long long)time(NULL);
	return d > 0 ? d : 0;
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0)
		s->r->retry_after = fetch_retry_after(data + 12, len - 12);
	return len;
}

struct origin {
	char scheme[16], host[256];
	long port;
};

/* The scheme, host and port (explicit or the scheme's) of a URL. */
static int
origin_of(const char *url, struct origin *o)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -1;

	if (u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	        CURLUE_OK &&
	    strlen(scheme) < sizeof(o->scheme) &&
	    strlen(host) < sizeof(o->host)) {
		strcpy(o->scheme, scheme);
		strcpy(o->host, host);
		o->port = strtol(port, NULL, 10);
		rc = 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

const char *
fetch_redirect_refusal(const char *from, const char *to)
{
	struct origin a, b;

	if (origin_of(from, &a) < 0 || origin_of(to, &b) < 0)
		return "not a URL";
	if (strcasecmp(a.scheme, "https") == 0 &&
	    strcasecmp(b.scheme, "https") != 0)
		return "from https to http";
	if (strcasecmp(a.scheme, b.scheme) != 0 ||
	    strcasecmp(a.host, b.host) != 0 || a.port != b.port)
		return "another host";
	return NULL;
}

static CURL *
handle(struct sink *s)
{
	CURL *c = curl_easy_init();

	if (c == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "m365ctl (m365-bypass)");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, s);
	return c;
}

/* One request to url, within what is left of the deadline. */
static int
hop(CURL *c, struct sink *s, const char *url, const char *orig,
    long long deadline, struct m365_err *err)
{
	long long left = deadline - ctl_now_ms();
	CURLcode rc;

	fetch_free(s->r);
	s->cap = 0;
	s->r->status = 0;
	s->r->retry_after = -1;
	if (left <= 0)
		return m365_err_set(err, M365_E_IO, "%s: timed out", orig);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
	                 left < 10000 ? (long)left : 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s->r->status);
	if (s->too_big)
		return m365_err_set(err, M365_E_REFUSED,
		                    "%s: answer larger than %zu bytes", orig,
		                    s->max);
	if (rc != CURLE_OK)
		return m365_err_set(err, M365_E_IO, "%s: %s", orig,
		                    curl_easy_strerror(rc));
	return 0;
}

/*
 * The next URL to ask after a redirect answer, copied into next (NULL when
 * the answer is not a redirect), or -1 with err set when it is refused.
 */
static int
next_url(CURL *c, const char *orig, int hops, char **next, struct m365_err *err)
{
	const char *why;
	char *loc = NULL;

	*next = NULL;
	curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
	if (loc == NULL)
		return 0;
	if ((why = fetch_redirect_refusal(orig, loc)) != NULL)
		return m365_err_set(err, M365_E_REFUSED,
		                    "%s: refused redirect to %.200s (%s)", orig,
		                    loc, why);
	if (hops == FETCH_MAX_REDIRECTS)
		return m365_err_set(err, M365_E_REFUSED,
		                    "%s: refused redirect to %.200s (more than "
		                    "%d redirects)",
		                    orig, loc, FETCH_MAX_REDIRECTS);
	if ((*next = strdup(loc)) == NULL)
		return m365_err_set(err, M365_E_NOMEM, "%s: out of memory",
		                    orig);
	return 0;
}

/* The request and the redirects it is allowed. */
static int
follow(CURL *c, struct sink *s, const char *url, long timeout_s,
       struct m365_err *err)
{
	long long deadline = ctl_now_ms() + timeout_s * 1000LL;
	char *cur = NULL, *next;
	int hops, rc = 0;

	for (hops = 0; rc == 0; hops++) {
		if ((rc = hop(c, s, cur ? cur : url, url, deadline, err)) < 0 ||
		    (rc = next_url(c, url, hops, &next, err)) < 0 ||
		    next == NULL)
			break;
		free(cur);
		cur = next;
	}
	free(cur);
	return rc;
}

int
fetch_get(const char *url, long timeout_s, size_t max, struct fetch_result *out,
          struct m365_err *err)
{
	struct sink s = {.r = out, .cap = 0, .max = max};
	CURL *c;
	int rc;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	if ((c = handle(&s)) == NULL)
		return m365_err_set(err, M365_E_IO, "%s: cannot start libcurl",
		                    url);
	rc = follow(c, &s, url, timeout_s, err);
	curl_easy_cleanup(c);
	if (rc < 0) {
		fetch_free(out);
		return -1;
	}
	if (out->body == NULL && (out->body = calloc(1, 1)) == NULL)
		return m365_err_set(err, M365_E_NOMEM, "%s: out of memory",
		                    url);
	return 0;
}

void
fetch_free(struct fetch_result *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}
