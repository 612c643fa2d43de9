/* sentinel.c - the Redis primary through Redis Sentinel (see sentinel.h). */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "m365_text.h"
#include "sentinel.h"

#define SENTINEL_TIMEOUT_MS 2000

static int
bad_addr(const char *arg, struct m365_err *err)
{
	return m365_err_set(err, M365_E_INPUT,
	                    "--redis-sentinel: expected HOST:PORT or "
	                    "[IPV6]:PORT, got \"%.100s\"",
	                    arg);
}

int
sentinel_parse(const char *arg, struct sentinel_addr *out, struct m365_err *err)
{
	const char *host = arg, *colon;
	long port;
	size_t n;

	if (arg[0] == '[') {
		host = arg + 1;
		if ((colon = strchr(host, ']')) == NULL || colon[1] != ':')
			return bad_addr(arg, err);
		n = (size_t)(colon++ - host);
	} else {
		if ((colon = strrchr(arg, ':')) == NULL ||
		    memchr(arg, ':', (size_t)(colon - arg)) != NULL)
			return bad_addr(arg, err);
		n = (size_t)(colon - arg);
	}
	if (n == 0 || n >= sizeof(out->host) ||
	    m365_parse_long(colon + 1, 1, 65535, &port) < 0)
		return bad_addr(arg, err);
	memcpy(out->host, host, n);
	out->host[n] = '\0';
	out->port = (int)port;
	return 0;
}

/* Reads the [host, port] answer of get-master-addr-by-name into pu. */
static int
master_addr(const redisContext *c, const redisReply *r, const char *name,
            struct m365_redis_url *pu, char *why, size_t len)
{
	long port;

	if (r == NULL)
		snprintf(why, len, "%s", c->errstr);
	else if (r->type == REDIS_REPLY_ERROR)
		snprintf(why, len, "%.200s", r->str);
	else if (r->type == REDIS_REPLY_NIL ||
	         (r->type == REDIS_REPLY_ARRAY && r->elements == 0))
		snprintf(why, len, "knows no master \"%.100s\"", name);
	else if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	         r->element[0]->type != REDIS_REPLY_STRING ||
	         r->element[1]->type != REDIS_REPLY_STRING ||
	         r->element[0]->len == 0 ||
	         r->element[0]->len >= sizeof(pu->host) ||
	         m365_parse_long(r->element[1]->str, 1, 65535, &port) < 0)
		snprintf(why, len, "unexpected answer");
	else {
		memcpy(pu->host, r->element[0]->str, r->element[0]->len + 1);
		pu->port = (int)port;
		pu->path[0] = '\0';
		return 0;
	}
	return -1;
}

/* Asks one sentinel where the primary is. */
static int
ask(const struct sentinel_addr *s, const char *name, struct m365_redis_url *pu,
    char *why, size_t len)
{
	struct timeval tv = {SENTINEL_TIMEOUT_MS / 1000, 0};
	redisContext *c = redisConnectWithTimeout(s->host, s->port, tv);
	redisReply *r;
	int rc;

	if (c == NULL || c->err) {
		snprintf(why, len, "%s", c ? c->errstr : "out of memory");
		redisFree(c);
		return -1;
	}
	redisSetTimeout(c, tv);
	r = redisCommand(c, "SENTINEL get-master-addr-by-name %s", name);
	rc = master_addr(c, r, name, pu, why, len);
	freeReplyObject(r);
	redisFree(c);
	return rc;
}

/* True when ROLE's first element is "master". */
static int
is_master(const redisReply *r)
{
	return r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	       r->element[0]->type == REDIS_REPLY_STRING &&
	       strcmp(r->element[0]->str, "master") == 0;
}

/* Connects to the address a sentinel gave and checks it is the primary. */
static redisContext *
primary(const struct m365_redis_url *pu, int timeout_ms, char *why, size_t len)
{
	struct m365_err e;
	redisContext *c;
	redisReply *r;

	if ((c = m365_redis_connect(pu, timeout_ms, &e)) == NULL) {
		snprintf(why, len, "%.100s:%d: %.180s", pu->host, pu->port,
		         e.msg);
		return NULL;
	}
	r = redisCommand(c, "ROLE");
	if (is_master(r)) {
		freeReplyObject(r);
		return c;
	}
	snprintf(why, len, "%.100s:%d is not the primary (ROLE: %.40s)",
	         pu->host, pu->port,
	         r == NULL                      ? c->errstr
	         : r->type == REDIS_REPLY_ERROR ? r->str
	         : r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
	                 r->element[0]->type == REDIS_REPLY_STRING
	             ? r->element[0]->str
	             : "unexpected answer");
	freeReplyObject(r);
	redisFree(c);
	return NULL;
}

/* Appends s to the string in buf (cap bytes), truncating. */
static void
append(char *buf, size_t cap, const char *s)
{
	size_t used = strlen(buf), n = strlen(s);

	if (n >= cap - used)
		n = cap - used - 1;
	memcpy(buf + used, s, n);
	buf[used + n] = '\0';
}

redisContext *
sentinel_connect(const struct sentinel_addr *s, int n, const char *name,
                 const struct m365_redis_url *u, int timeout_ms,
                 struct m365_err *err)
{
	char why[M365_ERR_MAX] = "", one[300], entry[600];
	redisContext *c;
	int i;

	for (i = 0; i < n; i++) {
		struct m365_redis_url pu = *u;
		if (ask(&s[i], name, &pu, one, sizeof(one)) == 0 &&
		    (c = primary(&pu, timeout_ms, one, sizeof(one))) != NULL)
			return c;
		snprintf(entry, sizeof(entry), "%s%.100s:%d: %s", i ? "; " : "",
		         s[i].host, s[i].port, one);
		append(why, sizeof(why), entry);
	}
	m365_err_set(err, M365_E_REDIS,
	             "--redis-sentinel: no primary for master \"%.100s\" (%s)",
	             name, why);
	return NULL;
}
