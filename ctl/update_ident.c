/*
 * update_ident.c - what a version published by m365ctl update is: the
 * parameters it was asked with (instance, service areas, tenant, NoIPv6),
 * which are part of its identity, its name, and its change report (see
 * update.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "m365_text.h"
#include "publish.h"
#include "update.h"

#define AREAS_MAX 16

static const char *const known_areas[] = {"Common", "Exchange", "SharePoint",
                                          "Skype", "MEM"};

/* The service areas, each once, in Microsoft's spelling when known,
 * sorted, comma-separated; "" for the default (all but MEM). */
static void
canonical_areas(const char *in, char *out, size_t len)
{
	char buf[1100], *v[AREAS_MAX], *tok, *save = NULL;
	size_t n = 0, i, k, off = 0;

	out[0] = '\0';
	snprintf(buf, sizeof(buf), "%s", in ? in : "");
	for (tok = strtok_r(buf, ",", &save); tok && n < AREAS_MAX;
	     tok = strtok_r(NULL, ",", &save)) {
		for (k = 0; k < sizeof(known_areas) / sizeof(*known_areas); k++)
			if (strcasecmp(tok, known_areas[k]) == 0)
				tok = (char *)known_areas[k];
		v[n++] = tok;
	}
	qsort(v, n, sizeof(*v), m365_strptr_cmp);
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(v[i], v[i - 1]) != 0)
			off += (size_t)snprintf(out + off,
			                        off < len ? len - off : 0,
			                        "%s%s", off ? "," : "", v[i]);
}

void
update_params(const struct update *u, char *buf, size_t len)
{
	char areas[300], tenant[300];
	size_t i;

	canonical_areas(u->areas, areas, sizeof(areas));
	snprintf(tenant, sizeof(tenant), "%s", u->tenant ? u->tenant : "");
	for (i = 0; tenant[i]; i++)
		if (tenant[i] >= 'A' && tenant[i] <= 'Z')
			tenant[i] = (char)(tenant[i] - 'A' + 'a');
	snprintf(buf, len, "instance=%s&serviceAreas=%s&tenant=%s&noIPv6=%s",
	         u->instance, areas, tenant, u->no_ipv6 ? "true" : "false");
}

int
params_instance(const char *params, char *out, size_t len)
{
	size_t n;

	if (strncmp(params, "instance=", 9) != 0)
		return -1;
	n = strcspn(params + 9, "&");
	if (n == 0 || n >= len)
		return -1;
	memcpy(out, params + 9, n);
	out[n] = '\0';
	return 0;
}

/* Microsoft's 10 digits, optionally followed by ".N" (republished). */
static int
ms_base(const char *v, char base[11])
{
	size_t n = strspn(v, "0123456789");

	if (n != 10 ||
	    (v[10] != '\0' && (v[10] != '.' || v[11] == '\0' ||
	                       strspn(v + 11, "0123456789") != strlen(v + 11))))
		return -1;
	memcpy(base, v, 10);
	base[10] = '\0';
	return 0;
}

int
is_newer(const char *latest, const char *current)
{
	char base[11];

	if (current[0] == '\0')
		return 1;
	if (ms_base(current, base) < 0)
		return 1; /* imported: any of Microsoft's replaces it */
	return strcmp(latest, base) > 0;
}

void
update_name(const char *current, const char *latest, char *out, size_t len)
{
	char base[11];
	long n = 0;

	if (ms_base(current, base) < 0 || strcmp(base, latest) != 0) {
		snprintf(out, len, "%s", latest);
		return;
	}
	if (current[10] == '.')
		n = strtol(current + 11, NULL, 10);
	snprintf(out, len, "%s.%ld", latest, n + 1);
}

int
update_microsoft_base(const char *version, char base[11])
{
	return ms_base(version, base);
}

/* Refuses to put another instance onto what holds one, without --force;
 * 0 otherwise. */
int
update_instance_clash(struct update *u, const struct target *t,
                      const struct current *cur, struct m365_err *err)
{
	char held[64];

	if (u->force || params_instance(cur->params, held, sizeof(held)) < 0 ||
	    strcmp(held, u->instance) == 0)
		return 0;
	u->refusal = "instance";
	if (t->redis)
		return m365_err_set(err, M365_E_REFUSED,
		                    "refused: prefix %s holds instance %s "
		                    "(version %s), not %s: give each instance "
		                    "its own --redis-prefix, or --force to "
		                    "replace it",
		                    t->prefix, held, cur->version, u->instance);
	return m365_err_set(err, M365_E_REFUSED,
	                    "refused: %s holds instance %s (version %s), not "
	                    "%s: give each instance its own --state-dir, or "
	                    "--force to replace it",
	                    t->state_dir, held, cur->version, u->instance);
}

/* True when the version in use is latest, asked as u asks (a version with
 * no parameters recorded counts as asked so). */
int
update_is_current(const struct update *u, const struct current *cur,
                  const char *latest)
{
	if (u->force || cur->why[0] != '\0' || is_newer(latest, cur->version))
		return 0;
	if (cur->params[0] == '\0' || strcmp(cur->params, u->params) == 0)
		return 1;
	printf("parameters changed (published %s, asked %s): downloading "
	       "version %s again\n",
	       cur->params, u->params, latest);
	return 0;
}
