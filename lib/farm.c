/* farm.c - the farm view's records in Redis (m365_farm.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "m365_farm.h"
#include "m365_text.h"

static int
host_byte(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

char *
m365_farm_host(char *buf, size_t len)
{
	char name[256] = "";
	size_t i;

	if (gethostname(name, sizeof(name) - 1) < 0 || name[0] == '\0')
		snprintf(name, sizeof(name), "unknown");
	name[M365_FARM_HOST_MAX] = '\0';
	for (i = 0; name[i]; i++)
		if (!host_byte(name[i]))
			name[i] = '_';
	snprintf(buf, len, "%s", name);
	return buf;
}

char *
m365_farm_key(const char *prefix, const struct m365_farm_entry *e, char *buf,
              size_t len)
{
	int n = snprintf(buf, len, "%sproxy:%s:%s:%d", prefix, e->host,
	                 e->frontend, e->pid);

	return n < 0 || (size_t)n >= len ? NULL : buf;
}

char *
m365_farm_value(const struct m365_farm_entry *e, char *buf, size_t len)
{
	snprintf(buf, len, "1 %s %lld %lld", e->version[0] ? e->version : "-",
	         e->published_at, e->seen_at);
	return buf;
}

/* A decimal number of at most 18 digits from s, up to a space or the end. */
static int
number(const char **s, long long *out)
{
	const char *p = *s;
	long long v = 0;
	int n = 0;

	while (*p >= '0' && *p <= '9' && n < 18) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0 || (*p != ' ' && *p != '\0'))
		return -1;
	*out = v;
	*s = p;
	return 0;
}

/* The key's part after the prefix: "proxy:HOST:FRONTEND:PID". */
static int
parse_key(const char *k, struct m365_farm_entry *e)
{
	const char *host, *fe, *pid;
	long long n;
	size_t hl;

	if (strncmp(k, "proxy:", 6) != 0)
		return -1;
	host = k + 6;
	if ((fe = strchr(host, ':')) == NULL ||
	    (pid = strchr(fe + 1, ':')) == NULL)
		return -1;
	hl = (size_t)(fe - host);
	if (hl == 0 || hl > M365_FARM_HOST_MAX ||
	    !m365_token(host, hl, M365_FARM_HOST_MAX, "._-"))
		return -1;
	memcpy(e->host, host, hl);
	e->host[hl] = '\0';
	fe++;
	if (!((pid - fe == 5 && strncmp(fe, "squid", 5) == 0) ||
	      (pid - fe == 4 && strncmp(fe, "icap", 4) == 0)))
		return -1;
	snprintf(e->frontend, sizeof(e->frontend), "%.*s", (int)(pid - fe), fe);
	pid++;
	if (number(&pid, &n) < 0 || *pid != '\0' || n <= 0 || n > 1 << 30)
		return -1;
	e->pid = (int)n;
	return 0;
}

int
m365_farm_parse(const char *key, size_t plen, const char *value,
                struct m365_farm_entry *e)
{
	const char *v = value, *sp;
	size_t vl;

	memset(e, 0, sizeof(*e));
	if (strlen(key) < plen || parse_key(key + plen, e) < 0 ||
	    strncmp(v, "1 ", 2) != 0)
		return -1;
	v += 2;
	if ((sp = strchr(v, ' ')) == NULL)
		return -1;
	vl = (size_t)(sp - v);
	if (vl == 0 || vl > M365_VERSION_MAX ||
	    !m365_token(v, vl, M365_VERSION_MAX, "._:-"))
		return -1;
	if (!(vl == 1 && v[0] == '-'))
		snprintf(e->version, sizeof(e->version), "%.*s", (int)vl, v);
	v = sp + 1;
	if (number(&v, &e->published_at) < 0 || *v++ != ' ' ||
	    number(&v, &e->seen_at) < 0 || *v != '\0')
		return -1;
	return 0;
}

char *
m365_farm_client_name(const char *prefix, const struct m365_farm_entry *e,
                      char *buf, size_t len)
{
	int n =
	    snprintf(buf, len, "m365-bypass:%s:%s:%d:%s:%s", e->frontend,
	             e->host, e->pid, e->version[0] ? e->version : "-", prefix);

	return n < 0 || (size_t)n >= len ? NULL : buf;
}

/* The next ':'-ended field of name[*pos..n), of 1 to max bytes of a
 * token (extra allowed); its start, or NULL. */
static const char *
field(const char *name, size_t n, size_t *pos, size_t max, const char *extra,
      size_t *flen)
{
	const char *start = name + *pos, *colon;

	colon = memchr(start, ':', n - *pos);
	if (colon == NULL)
		return NULL;
	*flen = (size_t)(colon - start);
	if (!m365_token(start, *flen, max, extra))
		return NULL;
	*pos += *flen + 1;
	return start;
}

int
m365_farm_parse_client_name(const char *name, size_t n, const char *prefix,
                            struct m365_farm_entry *e)
{
	static const char tag[] = "m365-bypass:";
	const char *fe, *host, *pid, *ver;
	size_t pos = sizeof(tag) - 1, fl, hl, pl, vl;
	long long num;

	memset(e, 0, sizeof(*e));
	if (n < pos || memcmp(name, tag, pos) != 0 ||
	    (fe = field(name, n, &pos, 5, "", &fl)) == NULL ||
	    (host = field(name, n, &pos, M365_FARM_HOST_MAX, "._-", &hl)) ==
	        NULL ||
	    (pid = field(name, n, &pos, 10, "", &pl)) == NULL ||
	    (ver = field(name, n, &pos, M365_VERSION_MAX, "._-", &vl)) == NULL)
		return -1;
	/* the rest is the prefix, which may hold any byte but a space */
	if (n - pos != strlen(prefix) || memcmp(name + pos, prefix, n - pos))
		return -1;
	if (!((fl == 5 && memcmp(fe, "squid", 5) == 0) ||
	      (fl == 4 && memcmp(fe, "icap", 4) == 0)))
		return -1;
	memcpy(e->frontend, fe, fl);
	memcpy(e->host, host, hl);
	for (num = 0; pl > 0 && *pid >= '0' && *pid <= '9'; pid++, pl--)
		num = num * 10 + (*pid - '0');
	if (pl != 0 || num <= 0 || num > 1 << 30)
		return -1;
	e->pid = (int)num;
	if (!(vl == 1 && ver[0] == '-'))
		memcpy(e->version, ver, vl);
	return 0;
}
