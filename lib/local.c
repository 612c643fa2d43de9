/* local.c - the admins' local list parser (see m365_local.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "m365_breadth.h"
#include "m365_host.h"
#include "m365_local.h"
#include "matchdata.h"
#include "pattern.h"

#define LOCAL_FILE_MAX (16u << 20)
#define LOCAL_LINE_MAX 4096

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Splits the next token off *p; returns it (NUL-terminated) or NULL. */
static char *
next_token(char **p)
{
	char *s = *p, *tok;

	while (is_space(*s))
		s++;
	if (*s == '\0' || *s == '#') {
		*p = s;
		return NULL;
	}
	tok = s;
	while (*s && !is_space(*s))
		s++;
	if (*s)
		*s++ = '\0';
	*p = s;
	return tok;
}

/*
 * True when a regex hits the backtracking limits on a test name: names
 * such as 250 'a's then '!' (then its domain, when it has one) make nested
 * quantifiers ("(a+)+") explode.
 * Such a pattern fails closed on them, but the admin should know.
 */
static bool
backtracks(pcre2_code *re, const char *domain)
{
	static const char *const units[] = {"a", "a.", "0", "a-", "ab"};
	pcre2_match_context *mc = matchctx_get();
	pcre2_match_data *md = matchdata_get();
	char name[M365_HOST_MAX + 1];
	size_t i, n;

	if (mc == NULL || md == NULL)
		return false;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t u = strlen(units[i]);
		int rc;
		size_t tail = domain ? strlen(domain) + 1 : 0;
		for (n = 0; n + u + tail < M365_HOST_MAX; n += u)
			memcpy(name + n, units[i], u);
		name[n++] = '!';
		if (domain != NULL) /* so that a required literal is there */
			n += (size_t)snprintf(name + n, sizeof(name) - n, ".%s",
			                      domain);
		rc = pcre2_match(re, (PCRE2_SPTR)name, n, 0, 0, md, mc);
		if (rc == PCRE2_ERROR_MATCHLIMIT ||
		    rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
			return true;
	}
	return false;
}

/* True when text[i] is escaped by an odd run of backslashes. */
static bool
escaped(const char *text, size_t i)
{
	size_t n = 0;

	while (i > n && text[i - n - 1] == '\\')
		n++;
	return n % 2 == 1;
}

/*
 * The literal domain a regex ends with: "\.example\.net$" or
 * "^example\.net$" give "example.net" (lowercase) in *out; none gives
 * NULL.  Only letters, digits, '-' and escaped dots count as literal.
 */
static int
regex_domain(const char *text, char **out, struct m365_err *err)
{
	char buf[M365_HOST_MAX + 1];
	size_t end = strlen(text), i, n = 0;

	*out = NULL;
	if (end < 2 || text[end - 1] != '$' || escaped(text, end - 1))
		return 0;
	for (i = end - 1; i > 0 && n < M365_HOST_MAX; i--) {
		char c = text[i - 1];
		if (c == '.' && i >= 2 && escaped(text, i - 1))
			i--; /* "\." is a literal dot */
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		           (c >= '0' && c <= '9') || c == '-') ||
		         escaped(text, i - 1))
			break;
		buf[n++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	/* the domain starts after a literal dot, or at "^" */
	if (n > 0 && buf[n - 1] == '.')
		n--;
	else if (!(i == 1 && text[0] == '^'))
		return 0;
	buf[n] = '\0';
	for (i = 0; i < n / 2; i++) { /* it was read backwards */
		char t = buf[i];
		buf[i] = buf[n - 1 - i];
		buf[n - 1 - i] = t;
	}
	if (n == 0 || buf[0] == '.' || strstr(buf, "..") != NULL)
		return 0;
	if ((*out = strdup(buf)) == NULL)
		return m365_err_set(err, M365_E_NOMEM, "out of memory");
	return 0;
}

static int
compile_regex(struct m365_rule *r, const char *re, struct m365_err *err)
{
	int code;
	PCRE2_SIZE off;

	if (*re == '\0')
		return m365_err_set(err, M365_E_INPUT,
		                    "empty regular expression");
	r->re = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &code,
	                      &off, NULL);
	if (r->re == NULL) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof(msg));
		return m365_err_set(err, M365_E_INPUT,
		                    "bad regular expression at offset %zu: %s",
		                    (size_t)off, (char *)msg);
	}
	if (regex_domain(re, &r->domain, err) < 0)
		return -1;
	r->backtracks = backtracks(r->re, r->domain);
	return 0;
}

/* Parses the pattern of one rule into r; -1 with err set. */
static int
parse_pattern(struct m365_rule *r, const char *pat, struct m365_err *err)
{
	char buf[M365_HOST_MAX + 1];

	if ((r->text = strdup(pat)) == NULL)
		return m365_err_set(err, M365_E_NOMEM, "out of memory");
	if (strncmp(pat, "re:", 3) == 0) {
		r->kind = M365_RULE_REGEX;
		return compile_regex(r, pat + 3, err);
	}
	/* addresses and ranges: anything with ':' or '/', or digits and dots */
	if (strchr(pat, ':') != NULL || strchr(pat, '/') != NULL ||
	    strspn(pat, "0123456789.") == strlen(pat)) {
		r->kind = M365_RULE_CIDR;
		return cidr_parse(pat, &r->cidr, err);
	}
	r->kind = M365_RULE_GLOB;
	if (glob_check(pat, buf, sizeof(buf), err) < 0)
		return -1;
	if ((r->glob = strdup(buf)) == NULL)
		return m365_err_set(err, M365_E_NOMEM, "out of memory");
	return 0;
}

/* Parses one line (NUL-terminated, modifiable) into r.  1 if it holds a
 * rule, 0 if blank, -1 with err set. */
static int
parse_line(char *line, struct m365_rule *r, struct m365_err *err)
{
	char *p = line, *verb, *pat, *extra;

	if ((verb = next_token(&p)) == NULL)
		return 0;
	if (strcmp(verb, "bypass") == 0) {
		r->verb = M365_VERB_BYPASS;
	} else if (strcmp(verb, "never") == 0) {
		r->verb = M365_VERB_NEVER;
	} else {
		return m365_err_set(
		    err, M365_E_INPUT,
		    "unknown verb \"%.40s\" (expected bypass or never)", verb);
	}
	if ((pat = next_token(&p)) == NULL)
		return m365_err_set(err, M365_E_INPUT, "%s: missing pattern",
		                    verb);
	if ((extra = next_token(&p)) != NULL)
		return m365_err_set(
		    err, M365_E_INPUT,
		    "unexpected \"%.40s\" after the pattern (comments "
		    "start with #)",
		    extra);
	return parse_pattern(r, pat, err) < 0 ? -1 : 1;
}

static void
free_rule(struct m365_rule *r)
{
	free(r->text);
	free(r->glob);
	free(r->domain);
	pcre2_code_free(r->re);
	memset(r, 0, sizeof(*r));
}

struct m365_local *
m365_local_parse(const char *buf, size_t len, const char *source,
                 struct m365_err *err)
{
	struct m365_local *l = calloc(1, sizeof(*l));
	char line[LOCAL_LINE_MAX + 1];
	size_t pos = 0, cap = 0;
	unsigned lineno = 0;

	if (l == NULL || (l->source = strdup(source)) == NULL) {
		free(l);
		m365_err_set(err, M365_E_NOMEM, "%s: out of memory", source);
		return NULL;
	}
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (buf + pos)) : len - pos;
		struct m365_rule r;
		int rc;

		lineno++;
		if (n > LOCAL_LINE_MAX) {
			m365_err_set(err, M365_E_INPUT,
			             "%s:%u: line longer than %d bytes", source,
			             lineno, LOCAL_LINE_MAX);
			goto fail;
		}
		if (memchr(buf + pos, '\0', n) != NULL) {
			m365_err_set(err, M365_E_INPUT,
			             "%s:%u: NUL byte in line", source, lineno);
			goto fail;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		pos += n + 1;
		memset(&r, 0, sizeof(r));
		r.line = lineno;
		if ((rc = parse_line(line, &r, err)) <= 0) {
			free_rule(&r);
			if (rc == 0)
				continue;
			m365_err_prefix(err, "%s:%u", source, lineno);
			goto fail;
		}
		if (l->n_rules == cap) {
			struct m365_rule *nr;
			cap = cap ? cap * 2 : 16;
			if ((nr = realloc(l->rules, cap * sizeof(*nr))) ==
			    NULL) {
				free_rule(&r);
				m365_err_set(err, M365_E_NOMEM,
				             "%s: out of memory", source);
				goto fail;
			}
			l->rules = nr;
		}
		l->rules[l->n_rules++] = r;
	}
	if (m365_breadth_check_local(l, err) < 0)
		goto fail;
	return l;
fail:
	m365_local_free(l);
	return NULL;
}

struct m365_local *
m365_local_load_file(const char *path, struct m365_err *err)
{
	struct m365_local *l;
	size_t len;
	char *buf = m365_read_file(path, LOCAL_FILE_MAX, &len, err);

	if (buf == NULL)
		return NULL;
	l = m365_local_parse(buf, len, path, err);
	free(buf);
	return l;
}

const char *
m365_rule_warning(const struct m365_rule *r)
{
	if (!r->backtracks)
		return NULL;
	return "the regular expression backtracks badly (it hits the match "
	       "limit on some names, which then never match: no bypass); "
	       "avoid nested quantifiers such as (a+)+";
}

void
m365_local_free(struct m365_local *l)
{
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n_rules; i++)
		free_rule(&l->rules[i]);
	free(l->rules);
	free(l->source);
	free(l);
}
