/* listsrc.c - the list lookup and export answer from (see listsrc.h). */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "listsrc.h"
#include "m365_text.h"

void
listsrc_init(struct listsrc *s, const char *cmd)
{
	memset(s, 0, sizeof(*s));
	s->cmd = cmd;
	s->opt.names = &ctl_option_names;
	s->prefix = M365_STORE_PREFIX;
}

int
listsrc_option(struct listsrc *s, int c, const char *arg)
{
	long num;

	switch (c) {
	case 'l': s->opt.list = arg; return 1;
	case 'L': s->opt.local = arg; return 1;
	case 'c': s->opt.categories = arg; return 1;
	case 's': s->opt.service_areas = arg; return 1;
	case 'r': s->ro.url = arg; return 1;
	case 'p': s->prefix = arg; return 1;
	case 'A': s->ro.auth_file = arg; return 1;
	case 'K': s->verify_key = arg; return 1;
	case 'X':
		if (m365_parse_long(arg, M365_LOCAL_MAX_BYTES_MIN,
		                    M365_LOCAL_MAX_BYTES_MAX, &num) < 0) {
			fprintf(stderr,
			        "m365ctl %s: --local-max-bytes: expected 4096 "
			        "to 4294967296\n",
			        s->cmd);
			return 2;
		}
		s->opt.local_max_bytes = (size_t)num;
		return 1;
	default: return 0;
	}
}

int
listsrc_check(const struct listsrc *s)
{
	if (s->verify_key && s->ro.url == NULL) {
		fprintf(stderr, "m365ctl %s: --verify-key needs --redis\n",
		        s->cmd);
		return 2;
	}
	return ctl_redis_check(s->cmd, &s->ro);
}

/*
 * The list the helpers following Redis use now: the current version, with
 * the local list and policy of the options.  When Redis holds no version
 * yet, the helpers serve --list (or the bundled list), and so does this.
 * With --verify-key, a version without a valid signature is an error.
 */
static struct m365_list *
load_redis(struct listsrc *s, struct m365_key *key, int *status)
{
	struct m365_store_limits lim = {.max = 0, .verify = key};
	struct m365_endpoints *ep = NULL;
	struct m365_list *l;
	struct m365_err err;
	redisContext *c;
	int rc;

	if ((*status = ctl_redis_open(s->cmd, &s->ro, &c)) != 0)
		return NULL; /* the reason is on stderr */
	*status = 2;
	rc = m365_store_current(c, s->prefix, s->version, &err);
	if (rc > 0)
		ep =
		    m365_store_load(c, s->prefix, s->version, &lim, NULL, &err);
	redisFree(c);
	if (rc == 0) {
		fprintf(stderr,
		        "m365ctl %s: Redis holds no version under %s; "
		        "using the fallback list\n",
		        s->cmd, s->prefix);
		s->version[0] = '\0';
		l = m365_list_load(&s->opt, &err);
	} else if (ep == NULL) {
		fprintf(stderr, "m365ctl %s: %s\n", s->cmd, err.msg);
		return NULL;
	} else {
		snprintf(s->origin, sizeof(s->origin),
		         "Redis (prefix %s), version %s", s->prefix,
		         s->version);
		l = m365_list_build_opt(ep, &s->opt, &err);
	}
	if (l == NULL)
		fprintf(stderr, "m365ctl %s: %s\n", s->cmd, err.msg);
	return l;
}

/* Warns of local rules that backtrack badly, as the helper does at start. */
static void
warn_rules(const char *cmd, const struct m365_local *loc)
{
	size_t i;

	for (i = 0; loc && i < loc->n_rules; i++)
		if (m365_rule_warning(&loc->rules[i]) != NULL)
			fprintf(stderr, "m365ctl %s: warning: %s:%u: %s\n", cmd,
			        loc->source, loc->rules[i].line,
			        m365_rule_warning(&loc->rules[i]));
}

struct m365_list *
listsrc_load(struct listsrc *s, int *status)
{
	struct m365_key *key = NULL;
	struct m365_list *l;
	struct m365_err err;

	*status = 2;
	if (s->verify_key &&
	    (key = m365_key_load_public(s->verify_key, &err)) == NULL) {
		fprintf(stderr, "m365ctl %s: %s\n", s->cmd, err.msg);
		return NULL;
	}
	if (s->ro.url != NULL) {
		l = load_redis(s, key, status);
	} else if ((l = m365_list_load(&s->opt, &err)) == NULL) {
		fprintf(stderr, "m365ctl %s: %s\n", s->cmd, err.msg);
	}
	m365_key_free(key);
	if (l == NULL)
		return NULL;
	if (s->origin[0] == '\0')
		snprintf(s->origin, sizeof(s->origin), "%s",
		         m365_list_endpoints(l)->source);
	warn_rules(s->cmd, m365_list_local(l));
	return l;
}
