/* redis.c - Redis URLs and connections (see m365_redis.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "fileio.h"
#include "hex.h"
#include "m365_redis.h"

#define AUTH_FILE_MAX 4096

/* Reads a decimal in [lo, hi] from s[0..n); -1 on error. */
static long
bounded(const char *s, size_t n, long lo, long hi)
{
	long v = 0;
	size_t i;

	if (n == 0 || n > 9)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v >= lo && v <= hi ? v : -1;
}

static int
copy(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* Copies s[0..n) into dst percent-decoded; -1 when it does not fit or
 * decodes to a NUL. */
static int
copy_decoded(char *dst, size_t cap, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		int c = (unsigned char)s[i], hi, lo;
		if (c == '%' && i + 2 < n && (hi = hex_value(s[i + 1])) >= 0 &&
		    (lo = hex_value(s[i + 2])) >= 0) {
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || o + 1 >= cap)
			return -1;
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return 0;
}

static int
parse_unix(const char *rest, struct m365_redis_url *out, const char *name,
           struct m365_err *err)
{
	const char *q = strchr(rest, '?');
	size_t n = q ? (size_t)(q - rest) : strlen(rest);

	if (n == 0 || rest[0] != '/' ||
	    copy(out->path, sizeof(out->path), rest, n) < 0)
		return m365_err_set(err, M365_E_INPUT,
		                    "%s: expected unix:///absolute/path", name);
	if (q != NULL) {
		if (strncmp(q, "?db=", 4) != 0 ||
		    (out->db = (int)bounded(q + 4, strlen(q + 4), 0, 100000)) <
		        0)
			return m365_err_set(
			    err, M365_E_INPUT,
			    "%s: expected ?db=N after the socket path", name);
	}
	return 0;
}

static int
parse_tcp(const char *rest, struct m365_redis_url *out, const char *name,
          struct m365_err *err)
{
	const char *at = strrchr(rest, '@'), *hp = at ? at + 1 : rest;
	const char *slash = strchr(hp, '/'), *colon;
	size_t hlen = slash ? (size_t)(slash - hp) : strlen(hp);

	if (at != NULL) {
		const char *c = memchr(rest, ':', (size_t)(at - rest));
		if (c == NULL)
			return m365_err_set(
			    err, M365_E_INPUT,
			    "%s: expected [user]:password@ before "
			    "the host",
			    name);
		if (copy_decoded(out->user, sizeof(out->user), rest,
		                 (size_t)(c - rest)) < 0 ||
		    copy_decoded(out->password, sizeof(out->password), c + 1,
		                 (size_t)(at - c - 1)) < 0)
			return m365_err_set(err, M365_E_INPUT,
			                    "%s: user or password too long or "
			                    "badly encoded",
			                    name);
	}
	colon = memchr(hp, ':', hlen);
	if (hp[0] == '[') { /* [v6]:port */
		const char *end = memchr(hp, ']', hlen);
		if (end == NULL)
			return m365_err_set(err, M365_E_INPUT,
			                    "%s: unterminated [address]", name);
		if (copy(out->host, sizeof(out->host), hp + 1,
		         (size_t)(end - hp - 1)) < 0)
			return m365_err_set(err, M365_E_INPUT,
			                    "%s: host too long", name);
		colon = end + 1 < hp + hlen && end[1] == ':' ? end + 1 : NULL;
	} else if (copy(out->host, sizeof(out->host), hp,
	                colon ? (size_t)(colon - hp) : hlen) < 0)
		return m365_err_set(err, M365_E_INPUT, "%s: host too long",
		                    name);
	if (out->host[0] == '\0')
		return m365_err_set(err, M365_E_INPUT, "%s: missing host",
		                    name);
	if (colon != NULL &&
	    (out->port = (int)bounded(
	         colon + 1, (size_t)(hp + hlen - colon - 1), 1, 65535)) < 0)
		return m365_err_set(err, M365_E_INPUT, "%s: invalid port",
		                    name);
	if (slash != NULL && slash[1] != '\0' &&
	    (out->db = (int)bounded(slash + 1, strlen(slash + 1), 0, 100000)) <
	        0)
		return m365_err_set(err, M365_E_INPUT,
		                    "%s: invalid database number", name);
	return 0;
}

int
m365_redis_url_parse(const char *url, struct m365_redis_url *out,
                     const char *name, struct m365_err *err)
{
	if (name == NULL)
		name = "Redis URL";
	memset(out, 0, sizeof(*out));
	out->port = 6379;
	if (strncmp(url, "unix://", 7) == 0)
		return parse_unix(url + 7, out, name, err);
	if (strncmp(url, "redis://", 8) == 0)
		return parse_tcp(url + 8, out, name, err);
	return m365_err_set(
	    err, M365_E_INPUT,
	    "%s: expected redis://host[:port][/db] or unix:///path", name);
}

/* Splits the credentials line of an auth file into u; -1 if malformed. */
static int
auth_line(char *line, struct m365_redis_url *u)
{
	char *a, *b, *c, *save = NULL;

	a = strtok_r(line, " \t\r", &save);
	b = strtok_r(NULL, " \t\r", &save);
	c = strtok_r(NULL, " \t\r", &save);
	if (a == NULL || c != NULL)
		return -1;
	u->user[0] = u->password[0] = '\0';
	if (b == NULL)
		return copy(u->password, sizeof(u->password), a, strlen(a));
	if (copy(u->user, sizeof(u->user), a, strlen(a)) < 0)
		return -1;
	return copy(u->password, sizeof(u->password), b, strlen(b));
}

int
m365_redis_auth_file(const char *path, struct m365_redis_url *u,
                     struct m365_err *err)
{
	char *buf, *line, *save = NULL;
	struct m365_redis_url creds;
	struct stat st;
	size_t len;
	int found = 0, rc = 0;

	if ((buf = m365_read_file_st(path, AUTH_FILE_MAX, &len, &st, err)) ==
	    NULL)
		return -1;
	if ((st.st_mode & 077) != 0) {
		free(buf);
		return m365_err_set(err, M365_E_INPUT,
		                    "%s: readable by group or others; a "
		                    "password file must be mode 600 or 400",
		                    path);
	}
	if (memchr(buf, '\0', len) != NULL)
		rc = -1;
	for (line = strtok_r(buf, "\n", &save); rc == 0 && line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		line += strspn(line, " \t\r");
		if (*line == '#' || *line == '\0')
			continue;
		if (found++ || auth_line(line, &creds) < 0)
			rc = -1;
	}
	memset(buf, 0, len);
	free(buf);
	if (rc == 0 && found) {
		memcpy(u->user, creds.user, sizeof(u->user));
		memcpy(u->password, creds.password, sizeof(u->password));
	}
	memset(&creds, 0, sizeof(creds));
	if (rc < 0 || !found)
		return m365_err_set(
		    err, M365_E_INPUT,
		    "%s: expected one line \"USER PASSWORD\" or "
		    "\"PASSWORD\"",
		    path);
	return 0;
}

char *
m365_redis_url_describe(const struct m365_redis_url *u, char *buf, size_t len)
{
	if (u->path[0])
		snprintf(buf, len, "unix://%s?db=%d", u->path, u->db);
	else
		snprintf(buf, len, "redis://%s%s%s:%d/%d",
		         strchr(u->host, ':') ? "[" : "", u->host,
		         strchr(u->host, ':') ? "]" : "", u->port, u->db);
	return buf;
}

/* Runs one command that must answer +OK; -1 with err set otherwise. */
static int
expect_ok(redisContext *c, struct m365_err *err, const char *what,
          redisReply *r)
{
	int ok = r != NULL && r->type == REDIS_REPLY_STATUS;

	if (!ok)
		m365_err_set(err, M365_E_REDIS, "redis: %s failed: %s", what,
		             r && r->type == REDIS_REPLY_ERROR ? r->str
		             : c->err                          ? c->errstr
		                      : "unexpected reply");
	freeReplyObject(r);
	return ok ? 0 : -1;
}

redisContext *
m365_redis_connect(const struct m365_redis_url *u, int timeout_ms,
                   struct m365_err *err)
{
	struct timeval tv = {.tv_sec = timeout_ms / 1000,
	                     .tv_usec = (timeout_ms % 1000) * 1000};
	redisContext *c;
	char where[300];

	c = u->path[0] ? redisConnectUnixWithTimeout(u->path, tv)
	               : redisConnectWithTimeout(u->host, u->port, tv);
	if (c == NULL || c->err) {
		m365_err_set(err, M365_E_REDIS,
		             "redis: cannot connect to %s: %s",
		             m365_redis_url_describe(u, where, sizeof(where)),
		             c ? c->errstr : "out of memory");
		goto fail;
	}
	if (redisSetTimeout(c, tv) != REDIS_OK) {
		m365_err_set(err, M365_E_REDIS, "redis: cannot set timeouts");
		goto fail;
	}
	if (u->password[0] &&
	    expect_ok(c, err, "AUTH",
	              u->user[0]
	                  ? redisCommand(c, "AUTH %s %s", u->user, u->password)
	                  : redisCommand(c, "AUTH %s", u->password)) < 0)
		goto fail;
	if (u->db != 0 && expect_ok(c, err, "SELECT",
	                            redisCommand(c, "SELECT %d", u->db)) < 0)
		goto fail;
	return c;
fail:
	if (c)
		redisFree(c);
	return NULL;
}
