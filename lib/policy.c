/* policy.c - which endpoint sets may bypass (see m365_policy.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m365_policy.h"
#include "m365_text.h"

#define POLICY_ITEMS_MAX 64

/* The policy being built, and the option's name for messages. */
struct building {
	struct m365_policy *p;
	const char *opt;
};

static int
add_category(void *arg, const char *item, struct m365_err *err)
{
	struct building *b = arg;
	int c = m365_category_from_name(item);

	if (c < 0)
		return m365_err_set(err, M365_E_INPUT,
		                    "%s: unknown category \"%s\" "
		                    "(expected Optimize, Allow or Default)",
		                    b->opt, item);
	b->p->categories |= 1u << c;
	return 0;
}

static int
add_area(void *arg, const char *item, struct m365_err *err)
{
	struct building *b = arg;

	if (!m365_token(item, strlen(item), M365_ITEM_MAX, "._-"))
		return m365_err_set(err, M365_E_INPUT,
		                    "%s: invalid name \"%s\"", b->opt, item);
	if ((b->p->areas[b->p->n_areas] = strdup(item)) == NULL)
		return m365_err_set(err, M365_E_NOMEM, "%s: out of memory",
		                    b->opt);
	b->p->n_areas++;
	return 0;
}

int
m365_policy_init(struct m365_policy *p, const char *categories,
                 const char *service_areas,
                 const struct m365_option_names *names, struct m365_err *err)
{
	struct building cat = {
	    .p = p, .opt = M365_OPTION_NAME(names, categories, "categories")};
	struct building area = {
	    .p = p,
	    .opt = M365_OPTION_NAME(names, service_areas, "service areas")};

	memset(p, 0, sizeof(*p));
	p->categories_opt = cat.opt;
	p->areas_opt = area.opt;
	if (categories == NULL)
		categories = M365_POLICY_DEFAULT_CATEGORIES;
	if (m365_split_commas(categories, cat.opt, POLICY_ITEMS_MAX,
	                      add_category, &cat, err) < 0)
		goto fail;
	if (service_areas == NULL || strcmp(service_areas, "all") == 0)
		return 0;
	if ((p->areas = calloc(POLICY_ITEMS_MAX, sizeof(char *))) == NULL) {
		m365_err_set(err, M365_E_NOMEM, "%s: out of memory", area.opt);
		goto fail;
	}
	if (m365_split_commas(service_areas, area.opt, POLICY_ITEMS_MAX,
	                      add_area, &area, err) < 0)
		goto fail;
	return 0;
fail:
	m365_policy_free(p);
	return -1;
}

/* Appends the distinct service areas of ep to buf ("A, B, C"). */
static void
known_areas(const struct m365_endpoints *ep, char *buf, size_t len)
{
	size_t i, j, off = 0;

	buf[0] = '\0';
	for (i = 0; i < ep->n_sets && off < len; i++) {
		const char *a = ep->sets[i].service_area;
		for (j = 0; j < i; j++)
			if (strcmp(ep->sets[j].service_area, a) == 0)
				break;
		if (j == i)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			                        off ? ", " : "", a);
	}
}

int
m365_policy_check_areas(const struct m365_policy *p,
                        const struct m365_endpoints *ep, struct m365_err *err)
{
	char known[512];
	size_t i, j;

	for (i = 0; p->areas != NULL && i < p->n_areas; i++) {
		for (j = 0; j < ep->n_sets; j++)
			if (strcmp(p->areas[i], ep->sets[j].service_area) == 0)
				break;
		if (j < ep->n_sets)
			continue;
		known_areas(ep, known, sizeof(known));
		return m365_err_set(err, M365_E_INPUT,
		                    "%s: unknown service area \"%s\" (%s has: "
		                    "%s)",
		                    p->areas_opt, p->areas[i], ep->source,
		                    known);
	}
	return 0;
}

bool
m365_policy_selects(const struct m365_policy *p, const struct m365_set *s)
{
	size_t i;

	if (s->category == M365_CAT_OTHER ||
	    !(p->categories & (1u << s->category)))
		return false;
	if (p->areas == NULL)
		return true;
	for (i = 0; i < p->n_areas; i++)
		if (strcmp(p->areas[i], s->service_area) == 0)
			return true;
	return false;
}

char *
m365_policy_describe(const struct m365_policy *p, char *buf, size_t len)
{
	size_t off = 0, i;
	int c;

	off += (size_t)snprintf(buf, len, "categories=");
	for (c = 0, i = 0; c < M365_CAT_OTHER; c++)
		if (p->categories & (1u << c) && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
			                        i++ ? "," : "",
			                        m365_category_name(c));
	if (off < len)
		off +=
		    (size_t)snprintf(buf + off, len - off, " service-areas=%s",
		                     p->areas ? "" : "all");
	for (i = 0; p->areas && i < p->n_areas && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
		                        i ? "," : "", p->areas[i]);
	return buf;
}

void
m365_policy_free(struct m365_policy *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; p->areas && i < p->n_areas; i++)
		free(p->areas[i]);
	free(p->areas);
	p->areas = NULL;
	p->n_areas = 0;
}
