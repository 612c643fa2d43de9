/* endpoints.c - Microsoft's endpoint JSON loader (see m365_endpoints.h). */
#include <arpa/inet.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "m365_endpoints.h"
#include "m365_host.h"
#include "m365_text.h"
#include "pattern.h"

#define EP_FILE_MAX (64u << 20)
#define EP_SETS_MAX 100000
#define EP_NAME_MAX 64
#define V4_MIN_PLEN 8
#define V6_MIN_PLEN 16

extern const char m365_bundled_json[];
extern const char m365_bundled_json_end[];

static const char *const category_names[] = {"Optimize", "Allow", "Default",
                                             "Other"};

const char *
m365_category_name(enum m365_category c)
{
	return category_names[c <= M365_CAT_OTHER ? c : M365_CAT_OTHER];
}

int
m365_category_from_name(const char *name)
{
	int i;

	for (i = 0; i < M365_CAT_OTHER; i++)
		if (strcmp(name, category_names[i]) == 0)
			return i;
	return -1;
}

/* A name Microsoft uses as a token (serviceArea, category): safe to echo. */
static int
valid_token(const char *s)
{
	return m365_token(s, strlen(s), EP_NAME_MAX, "._-");
}

/* Parsing context: where we are, for messages. */
struct ctx {
	const char *src;
	size_t i;
	struct m365_err *err;
};

static int fail(struct ctx *c, enum m365_err_code code, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Sets err to code and "SOURCE: $[i].FIELD: reason"; returns -1. */
static int
fail(struct ctx *c, enum m365_err_code code, const char *field, const char *fmt,
     ...)
{
	char why[M365_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return m365_err_set(c->err, code, "%s: $[%zu]%s%s: %s", c->src, c->i,
	                    field ? "." : "", field ? field : "", why);
}

static int
get_string(struct ctx *c, json_t *o, const char *key, int required, char **out)
{
	json_t *v = json_object_get(o, key);

	*out = NULL;
	if (v == NULL)
		return required ? fail(c, M365_E_INPUT, key, "missing") : 0;
	if (!json_is_string(v))
		return fail(c, M365_E_INPUT, key, "expected a string");
	if ((*out = strdup(json_string_value(v))) == NULL)
		return fail(c, M365_E_NOMEM, key, "out of memory");
	return 0;
}

static int
get_bool(struct ctx *c, json_t *o, const char *key, bool *out)
{
	json_t *v = json_object_get(o, key);

	*out = false;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return fail(c, M365_E_INPUT, key, "expected true or false");
	*out = json_is_true(v);
	return 0;
}

static int
get_ports(struct ctx *c, json_t *o, const char *key, struct m365_ports *out,
          bool *present)
{
	json_t *v = json_object_get(o, key);
	struct m365_err e;

	*present = v != NULL;
	out->n = 0;
	out->r = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return fail(c, M365_E_INPUT, key, "expected a string of ports");
	if (m365_ports_parse(json_string_value(v), out, &e) < 0)
		return fail(c, e.code, key, "%s", e.msg);
	return 0;
}

static int
get_urls(struct ctx *c, json_t *o, struct m365_set *s)
{
	json_t *a = json_object_get(o, "urls"), *v;
	char field[40], buf[M365_HOST_MAX + 1];
	struct m365_err e;
	size_t j;

	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return fail(c, M365_E_INPUT, "urls", "expected an array");
	if ((s->urls = calloc(json_array_size(a) + 1, sizeof(char *))) == NULL)
		return fail(c, M365_E_NOMEM, "urls", "out of memory");
	json_array_foreach(a, j, v)
	{
		snprintf(field, sizeof(field), "urls[%zu]", j);
		if (!json_is_string(v))
			return fail(c, M365_E_INPUT, field,
			            "expected a string");
		if (glob_check(json_string_value(v), buf, sizeof(buf), &e) < 0)
			return fail(c, e.code, field, "%s", e.msg);
		if (glob_is_broad(buf))
			return fail(c, M365_E_REFUSED, field,
			            "pattern \"%s\" would match a whole "
			            "top-level domain",
			            buf);
		if ((s->urls[s->n_urls] = strdup(buf)) == NULL)
			return fail(c, M365_E_NOMEM, field, "out of memory");
		s->n_urls++;
	}
	return 0;
}

static int
get_ips(struct ctx *c, json_t *o, struct m365_set *s)
{
	json_t *a = json_object_get(o, "ips"), *v;
	char field[40];
	struct m365_err e;
	size_t j;

	if (a == NULL)
		return 0;
	if (!json_is_array(a))
		return fail(c, M365_E_INPUT, "ips", "expected an array");
	if ((s->ips = calloc(json_array_size(a) + 1, sizeof(*s->ips))) == NULL)
		return fail(c, M365_E_NOMEM, "ips", "out of memory");
	json_array_foreach(a, j, v)
	{
		struct m365_cidr *ip = &s->ips[s->n_ips];
		snprintf(field, sizeof(field), "ips[%zu]", j);
		if (!json_is_string(v))
			return fail(c, M365_E_INPUT, field,
			            "expected a string");
		if (cidr_parse(json_string_value(v), ip, &e) < 0)
			return fail(c, e.code, field, "%s", e.msg);
		if (ip->plen <
		    (ip->family == AF_INET ? V4_MIN_PLEN : V6_MIN_PLEN))
			return fail(c, M365_E_REFUSED, field,
			            "range \"%s\" is too broad to bypass",
			            json_string_value(v));
		if ((ip->text = strdup(json_string_value(v))) == NULL)
			return fail(c, M365_E_NOMEM, field, "out of memory");
		s->n_ips++;
	}
	return 0;
}

static int
parse_set(struct ctx *c, json_t *o, struct m365_set *s)
{
	json_t *id = json_object_get(o, "id");
	int cat;

	if (!json_is_object(o))
		return fail(c, M365_E_INPUT, NULL, "expected an object");
	if (id == NULL)
		return fail(c, M365_E_INPUT, "id", "missing");
	if (!json_is_integer(id) || json_integer_value(id) < 0 ||
	    json_integer_value(id) > INT32_MAX)
		return fail(c, M365_E_INPUT, "id",
		            "expected an integer 0 to 2^31-1");
	s->id = json_integer_value(id);
	snprintf(s->id_text, sizeof(s->id_text), "%lld", (long long)s->id);
	if (get_string(c, o, "serviceArea", 1, &s->service_area) < 0 ||
	    get_string(c, o, "serviceAreaDisplayName", 0,
	               &s->service_area_name) < 0 ||
	    get_string(c, o, "category", 1, &s->category_name) < 0 ||
	    get_string(c, o, "notes", 0, &s->notes) < 0)
		return -1;
	if (!valid_token(s->service_area))
		return fail(c, M365_E_INPUT, "serviceArea",
		            "expected 1-64 characters of [A-Za-z0-9._-]");
	if (!valid_token(s->category_name))
		return fail(c, M365_E_INPUT, "category",
		            "expected 1-64 characters of [A-Za-z0-9._-]");
	cat = m365_category_from_name(s->category_name);
	s->category = cat < 0 ? M365_CAT_OTHER : (enum m365_category)cat;
	if (get_bool(c, o, "required", &s->required) < 0 ||
	    get_bool(c, o, "expressRoute", &s->express_route) < 0 ||
	    get_ports(c, o, "tcpPorts", &s->tcp, &s->has_tcp) < 0 ||
	    get_ports(c, o, "udpPorts", &s->udp, &s->has_udp) < 0 ||
	    get_urls(c, o, s) < 0 || get_ips(c, o, s) < 0)
		return -1;
	return 0;
}

static int
cmp_id(const void *a, const void *b)
{
	const struct m365_set *const *x = a, *const *y = b;

	return ((*x)->id > (*y)->id) - ((*x)->id < (*y)->id);
}

/* Refuses duplicate ids and a list without a usable set. */
static int
check_list(struct m365_endpoints *ep, struct m365_err *err)
{
	const struct m365_set **by_id;
	size_t i, usable = 0;

	for (i = 0; i < ep->n_sets; i++)
		usable += ep->sets[i].n_urls + ep->sets[i].n_ips > 0;
	if (usable == 0)
		return m365_err_set(err, M365_E_INPUT,
		                    "%s: no endpoint set has urls or ips",
		                    ep->source);
	if ((by_id = calloc(ep->n_sets, sizeof(*by_id))) == NULL)
		return m365_err_set(err, M365_E_NOMEM, "%s: out of memory",
		                    ep->source);
	for (i = 0; i < ep->n_sets; i++)
		by_id[i] = &ep->sets[i];
	qsort(by_id, ep->n_sets, sizeof(*by_id), cmp_id);
	for (i = 1; i < ep->n_sets; i++) {
		if (by_id[i]->id == by_id[i - 1]->id) {
			m365_err_set(err, M365_E_INPUT,
			             "%s: $[%zu].id: duplicate id %lld "
			             "(first at $[%zu])",
			             ep->source, by_id[i]->index,
			             (long long)by_id[i]->id,
			             by_id[i - 1]->index);
			free(by_id);
			return -1;
		}
	}
	free(by_id);
	return 0;
}

struct m365_endpoints *
m365_endpoints_parse(const char *json, size_t len, const char *source,
                     struct m365_err *err)
{
	struct m365_endpoints *ep;
	json_error_t jerr;
	json_t *root, *o;
	struct ctx c = {.src = source, .i = 0, .err = err};

	if ((ep = calloc(1, sizeof(*ep))) == NULL ||
	    (ep->source = strdup(source)) == NULL) {
		free(ep);
		m365_err_set(err, M365_E_NOMEM, "%s: out of memory", source);
		return NULL;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		m365_err_set(err, M365_E_INPUT, "%s: line %d column %d: %s",
		             source, jerr.line, jerr.column, jerr.text);
		goto fail;
	}
	if (!json_is_array(root)) {
		m365_err_set(err, M365_E_INPUT,
		             "%s: $: expected an array of endpoint sets",
		             source);
		goto fail;
	}
	if (json_array_size(root) == 0 || json_array_size(root) > EP_SETS_MAX) {
		m365_err_set(err, M365_E_INPUT,
		             "%s: $: expected 1 to %d endpoint sets, got %zu",
		             source, EP_SETS_MAX, json_array_size(root));
		goto fail;
	}
	if ((ep->sets = calloc(json_array_size(root), sizeof(*ep->sets))) ==
	    NULL) {
		m365_err_set(err, M365_E_NOMEM, "%s: out of memory", source);
		goto fail;
	}
	json_array_foreach(root, c.i, o)
	{
		struct m365_set *s = &ep->sets[ep->n_sets++];
		s->index = c.i;
		if (parse_set(&c, o, s) < 0)
			goto fail;
		ep->n_urls += s->n_urls;
		ep->n_ips += s->n_ips;
	}
	if (check_list(ep, err) < 0)
		goto fail;
	json_decref(root);
	return ep;
fail:
	json_decref(root);
	m365_endpoints_free(ep);
	return NULL;
}

struct m365_endpoints *
m365_endpoints_load_file(const char *path, struct m365_err *err)
{
	struct m365_endpoints *ep;
	size_t len;
	char *buf = m365_read_file(path, EP_FILE_MAX, &len, err);

	if (buf == NULL)
		return NULL;
	ep = m365_endpoints_parse(buf, len, path, err);
	free(buf);
	return ep;
}

struct m365_endpoints *
m365_endpoints_load_bundled(struct m365_err *err)
{
	size_t len = (size_t)(m365_bundled_json_end - m365_bundled_json) - 1;

	return m365_endpoints_parse(m365_bundled_json, len, M365_BUNDLED_NAME,
	                            err);
}

static void
free_set(struct m365_set *s)
{
	size_t j;

	for (j = 0; j < s->n_urls; j++)
		free(s->urls[j]);
	for (j = 0; j < s->n_ips; j++)
		free(s->ips[j].text);
	free(s->urls);
	free(s->ips);
	free(s->service_area);
	free(s->service_area_name);
	free(s->category_name);
	free(s->notes);
	m365_ports_free(&s->tcp);
	m365_ports_free(&s->udp);
}

void
m365_endpoints_free(struct m365_endpoints *ep)
{
	size_t i;

	if (ep == NULL)
		return;
	for (i = 0; i < ep->n_sets; i++)
		free_set(&ep->sets[i]);
	free(ep->sets);
	free(ep->source);
	free(ep);
}
