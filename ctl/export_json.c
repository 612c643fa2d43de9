/* export_json.c - m365ctl export json: the selected endpoints flattened,
 * one object per name or range with its set, category, service area and
 * ports, and the local rules (see export.h). */
#include <jansson.h>
#include <stdio.h>

#include "export.h"
#include "m365_ports.h"

/* The fields every endpoint of set x carries. */
static json_t *
endpoint(const struct xm_set *x, const char *what, const char *type)
{
	char tcp[512], udp[512];
	const struct m365_set *s = x->s;

	return json_pack(
	    "{s:s, s:s, s:I, s:s, s:s, s:b, s:s?, s:s?}", "endpoint", what,
	    "type", type, "set", (json_int_t)s->id, "category",
	    s->category_name, "serviceArea", s->service_area, "required",
	    s->required, "tcpPorts",
	    s->has_tcp ? m365_ports_format(&s->tcp, tcp, sizeof(tcp)) : NULL,
	    "udpPorts",
	    s->has_udp ? m365_ports_format(&s->udp, udp, sizeof(udp)) : NULL);
}

static json_t *
endpoints(const struct xm *m)
{
	json_t *a = json_array();
	struct m365_cidr c, v4;
	char buf[64];
	size_t i, j;

	for (i = 0; a && i < m->n_set; i++) {
		const struct xm_set *x = &m->set[i];
		for (j = 0; j < x->n_urls; j++)
			json_array_append_new(a,
			                      endpoint(x, x->urls[j], "name"));
		for (j = 0; j < x->s->n_ips; j++) {
			c = x->s->ips[j];
			if (m365_cidr_v4_part(&c, &v4) == M365_CIDR_V4_ONLY)
				c = v4;
			xm_cidr_text(&c, buf, sizeof(buf));
			json_array_append_new(a, endpoint(x, buf, "range"));
		}
	}
	return a;
}

static json_t *
local_rules(const struct xm *m)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && m->local && i < m->local->n_rules; i++) {
		const struct m365_rule *r = &m->local->rules[i];
		json_array_append_new(
		    a,
		    json_pack("{s:I, s:s, s:s}", "line", (json_int_t)r->line,
		              "verb",
		              r->verb == M365_VERB_NEVER ? "never" : "bypass",
		              "pattern", r->text));
	}
	return a;
}

int
export_json(FILE *f, const struct xm *m, const struct export_opts *o)
{
	json_t *doc = json_pack(
	    "{s:s, s:s, s:s, s:s?, s:o, s:s?, s:o}", "generator", o->command,
	    "list", m->origin, "policy", m->policy, "tenant", m->tenant,
	    "endpoints", endpoints(m), "localList",
	    m->local ? m->local->source : NULL, "local", local_rules(m));
	int rc;

	if (doc == NULL) {
		fprintf(stderr, "m365ctl export: out of memory\n");
		return -1;
	}
	rc = json_dumpf(doc, f, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(doc);
	if (rc != 0)
		fprintf(stderr, "m365ctl export: cannot write the JSON\n");
	return rc != 0 ? -1 : 0;
}
