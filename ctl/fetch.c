/* fetch.c - HTTP GET with timeouts and a size bound (see fetch.h). */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetch.h"

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

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	if (len > 12 && strncasecmp(data, "Retry-After:", 12) == 0) {
		char *end;
		long v = strtol(data + 12, &end, 10);
		if (end != data + 12 && v >= 0 && v < 7 * 86400)
			s->r->retry_after = v;
	}
	return len;
}

int
fetch_get(const char *url, long timeout_s, size_t max, struct fetch_result *out,
          struct m365_err *err)
{
	struct sink s = {.r = out, .cap = 0, .max = max};
	CURLcode rc;
	CURL *c;

	memset(out, 0, sizeof(*out));
	out->retry_after = -1;
	if ((c = curl_easy_init()) == NULL)
		return m365_err_set(err, M365_E_IO, "%s: cannot start libcurl",
		                    url);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
	                 timeout_s < 10 ? timeout_s : 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout_s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "m365ctl (m365-bypass)");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &s);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_easy_cleanup(c);
	if (s.too_big) {
		fetch_free(out);
		return m365_err_set(err, M365_E_REFUSED,
		                    "%s: answer larger than %zu bytes", url,
		                    max);
	}
	if (rc != CURLE_OK) {
		fetch_free(out);
		return m365_err_set(err, M365_E_IO, "%s: %s", url,
		                    curl_easy_strerror(rc));
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
