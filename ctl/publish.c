/* publish.c - shared by update and import (see publish.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "fileio.h"
#include "m365_redis.h"
#include "publish.h"

int
ctl_redis_open(const char *cmd, const char *url, redisContext **out)
{
	struct m365_redis_url u;
	struct m365_err err;

	*out = NULL;
	if (m365_redis_url_parse(url, &u, ctl_option_names.redis, &err) < 0) {
		fprintf(stderr, "m365ctl %s: %s\n", cmd, err.msg);
		return 2;
	}
	if ((*out = m365_redis_connect(&u, 5000, &err)) == NULL) {
		fprintf(stderr, "m365ctl %s: %s\n", cmd, err.msg);
		return 4;
	}
	return 0;
}

char *
publisher_name(char *buf, size_t len)
{
	char host[128] = "unknown";

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	snprintf(buf, len, "%s:%ld", host, (long)getpid());
	return buf;
}

static int
current_from_dir(const struct target *t, char *version, size_t len,
                 struct m365_endpoints **ep, struct m365_err *err)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/version", t->state_dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fgets(version, (int)len, f) == NULL)
		version[0] = '\0';
	fclose(f);
	version[strcspn(version, "\r\n")] = '\0';
	snprintf(path, sizeof(path), "%s/endpoints.json", t->state_dir);
	if ((*ep = m365_endpoints_load_file(path, err)) == NULL) {
		version[0] = '\0';
		return -1;
	}
	return 0;
}

int
publish_current(const struct target *t, char *version, size_t len,
                struct m365_endpoints **ep, struct m365_err *err)
{
	char v[M365_VERSION_MAX + 1];
	int rc;

	version[0] = '\0';
	*ep = NULL;
	if (t->redis == NULL)
		return t->state_dir ? current_from_dir(t, version, len, ep, err)
		                    : 0;
	if ((rc = m365_store_current(t->redis, t->prefix, v, err)) <= 0)
		return rc;
	if ((*ep = m365_store_load(t->redis, t->prefix, v, NULL, err)) == NULL)
		return -1;
	snprintf(version, len, "%s", v);
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct names (ips == 0) or addresses (ips == 1) of a list, sorted
 * and unique; their count goes to *n. */
static const char **
distinct(const struct m365_endpoints *ep, int ips, size_t *n)
{
	const char **v =
	    calloc((ips ? ep->n_ips : ep->n_urls) + 1, sizeof(char *));
	size_t i, j, k = 0;

	*n = 0;
	if (v == NULL)
		return NULL;
	for (i = 0; i < ep->n_sets; i++) {
		const struct m365_set *s = &ep->sets[i];
		for (j = 0; j < (ips ? s->n_ips : s->n_urls); j++)
			v[k++] = ips ? s->ips[j].text : s->urls[j];
	}
	qsort(v, k, sizeof(*v), cmp_str);
	for (i = 0; i < k; i++)
		if (*n == 0 || strcmp(v[*n - 1], v[i]) != 0)
			v[(*n)++] = v[i];
	return v;
}

/* The number of distinct names plus distinct addresses of a list. */
static size_t
count_distinct(const struct m365_endpoints *ep)
{
	size_t names, addrs;

	free(distinct(ep, 0, &names));
	free(distinct(ep, 1, &addrs));
	return names + addrs;
}

/* Counts what b adds to a and what it removes, by sorted merge. */
static void
diff(const char **a, size_t na, const char **b, size_t nb, size_t *add,
     size_t *del)
{
	size_t i = 0, j = 0;

	*add = *del = 0;
	while (i < na || j < nb) {
		int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i], b[j]);
		if (c == 0)
			i++, j++;
		else if (c < 0)
			(*del)++, i++;
		else
			(*add)++, j++;
	}
}

static int
has_id(const struct m365_endpoints *ep, long long id)
{
	size_t i;

	for (i = 0; i < ep->n_sets; i++)
		if (ep->sets[i].id == id)
			return 1;
	return 0;
}

char *
publish_summary(const struct m365_endpoints *old,
                const struct m365_endpoints *neu, char *buf, size_t len)
{
	size_t sa = 0, sd = 0, n[4], add[2] = {0, 0}, del[2] = {0, 0}, i;
	const char **v[4] = {NULL, NULL, NULL, NULL};
	int k;

	for (k = 0; k < 2; k++) {
		v[2 * k] = old ? distinct(old, k, &n[2 * k]) : NULL;
		v[2 * k + 1] = distinct(neu, k, &n[2 * k + 1]);
		if (!old)
			n[2 * k] = 0;
		diff(v[2 * k], n[2 * k], v[2 * k + 1], n[2 * k + 1], &add[k],
		     &del[k]);
	}
	for (i = 0; i < neu->n_sets; i++)
		sa += !old || !has_id(old, neu->sets[i].id);
	for (i = 0; old && i < old->n_sets; i++)
		sd += !has_id(neu, old->sets[i].id);
	snprintf(buf, len,
	         "sets %zu (+%zu -%zu), names %zu (+%zu -%zu), addresses %zu "
	         "(+%zu -%zu)",
	         neu->n_sets, sa, sd, n[1], add[0], del[0], n[3], add[1],
	         del[1]);
	for (k = 0; k < 4; k++)
		free(v[k]);
	return buf;
}

int
publish_check_shrink(const struct m365_endpoints *old,
                     const struct m365_endpoints *neu, bool force,
                     struct m365_err *err)
{
	size_t on, nn;

	if (old == NULL || force)
		return 0;
	if (neu->n_sets * 2 < old->n_sets)
		return m365_err_set(
		    err, M365_E_REFUSED,
		    "refused: %zu sets where the current list has %zu "
		    "(more than half lost; --force to publish anyway)",
		    neu->n_sets, old->n_sets);
	on = count_distinct(old);
	nn = count_distinct(neu);
	if (nn * 2 < on)
		return m365_err_set(
		    err, M365_E_REFUSED,
		    "refused: %zu names and addresses where the current "
		    "list has %zu (more than half lost; --force to "
		    "publish anyway)",
		    nn, on);
	return 0;
}

int
publish_write(const struct target *t, struct m365_snapshot *s,
              struct m365_err *err)
{
	char path[4096];

	if (t->redis &&
	    m365_store_publish(t->redis, t->prefix, s, t->keep, err) < 0)
		return -1;
	if (t->state_dir == NULL)
		return 0;
	if (mkdir(t->state_dir, 0755) < 0 && errno != EEXIST)
		return m365_err_set(err, M365_E_IO, "%s: %s", t->state_dir,
		                    strerror(errno));
	snprintf(path, sizeof(path), "%s/endpoints.json", t->state_dir);
	if (m365_write_file_atomic(path, s->json, s->len, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/version", t->state_dir);
	if (m365_write_file_atomic(path, s->version, strlen(s->version), err) <
	    0)
		return -1;
	return 0;
}
