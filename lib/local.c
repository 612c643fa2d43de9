/* local.c - the admins' local list parser (see m365_local.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "arena.h"
#include "fileio.h"
#include "m365_breadth.h"
#include "m365_host.h"
#include "m365_local.h"
#include "matchdata.h"
#include "pattern.h"
#include "redfa.h"

#define LOCAL_LINE_MAX 4096
#define READ_BLOCK (256u << 10)

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

/* True when the matcher runs re as an automaton (redfa.h). */
static bool
automaton(const char *re)
{
	struct redfa *d = redfa_compile(re, strlen(re), NULL);
	bool yes = d != NULL;

	redfa_free(d);
	return yes;
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
regex_domain(const char *text, struct arena *a, const char **out,
             struct m365_err *err)
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
	if ((*out = arena_strndup(a, buf, n)) == NULL)
		return m365_err_set(err, M365_E_NOMEM, "out of memory");
	return 0;
}

static int
compile_regex(struct m365_rule *r, const char *re, struct arena *a,
              struct m365_err *err)
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
	if (regex_domain(re, a, &r->domain, err) < 0)
		return -1;
	/* only PCRE2 backtracks: not a pattern run as an automaton */
	if (backtracks(r->re, r->domain) && !automaton(re))
		r->flags |= M365_RULE_BACKTRACKS;
	return 0;
}

/* A CIDR rule's range into r; -1 with err set. */
static int
parse_cidr(struct m365_rule *r, const char *pat, struct m365_err *err)
{
	struct m365_cidr c;

	if (cidr_parse(pat, &c, err) < 0)
		return -1;
	memcpy(r->addr, c.addr, sizeof(r->addr));
	r->plen = c.plen;
	if (c.family == AF_INET6)
		r->flags |= M365_RULE_V6;
	return 0;
}

/* Parses the pattern of one rule into r, its strings into a; -1 with err
 * set. */
static int
parse_pattern(struct m365_rule *r, const char *pat, struct arena *a,
              struct m365_err *err)
{
	char buf[M365_HOST_MAX + 1];
	size_t len = strlen(pat);

	if ((r->text = arena_strndup(a, pat, len)) == NULL)
		return m365_err_set(err, M365_E_NOMEM, "out of memory");
	if (strncmp(pat, "re:", 3) == 0) {
		r->kind = M365_RULE_REGEX;
		return compile_regex(r, pat + 3, a, err);
	}
	/* addresses and ranges: anything with ':' or '/', or digits and dots */
	if (strchr(pat, ':') != NULL || strchr(pat, '/') != NULL ||
	    strspn(pat, "0123456789.") == len) {
		r->kind = M365_RULE_CIDR;
		return parse_cidr(r, pat, err);
	}
	r->kind = M365_RULE_GLOB;
	if (glob_check(pat, buf, sizeof(buf), err) < 0)
		return -1;
	/* the text itself when it is lowercase already, as most are */
	if (memcmp(buf, pat, len) == 0)
		r->glob = r->text;
	else if ((r->glob = arena_strndup(a, buf, len)) == NULL)
		return m365_err_set(err, M365_E_NOMEM, "out of memory");
	return 0;
}

/* Parses one line (NUL-terminated, modifiable) into r.  1 if it holds a
 * rule, 0 if blank, -1 with err set. */
static int
parse_line(char *line, struct m365_rule *r, struct arena *a,
           struct m365_err *err)
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
	return parse_pattern(r, pat, a, err) < 0 ? -1 : 1;
}

/* A list being parsed, a block at a time. */
struct parser {
	struct m365_local *l;
	size_t cap;
	unsigned lineno;
	char line[LOCAL_LINE_MAX + 1];
	size_t len; /* bytes of the current line so far */
	bool nul;   /* the current line holds a NUL byte */
	bool over;  /* the current line is too long */
};

/* Ends the current line: parses it into a new rule; 0 or -1 with err. */
static int
end_line(struct parser *p, struct m365_err *err)
{
	struct m365_local *l = p->l;
	struct m365_rule r;
	int rc;

	p->lineno++;
	if (p->over)
		return m365_err_set(err, M365_E_INPUT,
		                    "%s:%u: line longer than %d bytes",
		                    l->source, p->lineno, LOCAL_LINE_MAX);
	if (p->nul)
		return m365_err_set(err, M365_E_INPUT,
		                    "%s:%u: NUL byte in line", l->source,
		                    p->lineno);
	p->line[p->len] = '\0';
	p->len = 0;
	memset(&r, 0, sizeof(r));
	r.line = p->lineno;
	if ((rc = parse_line(p->line, &r, l->strings, err)) <= 0) {
		if (r.kind == M365_RULE_REGEX)
			pcre2_code_free(r.re);
		return rc == 0 ? 0
		               : m365_err_prefix(err, "%s:%u", l->source,
		                                 p->lineno);
	}
	if (l->n_rules == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct m365_rule *nr = realloc(l->rules, cap * sizeof(*nr));
		if (nr == NULL) {
			if (r.kind == M365_RULE_REGEX)
				pcre2_code_free(r.re);
			return m365_err_set(err, M365_E_NOMEM,
			                    "%s: out of memory", l->source);
		}
		l->rules = nr;
		p->cap = cap;
	}
	l->rules[l->n_rules++] = r;
	return 0;
}

/* Takes buf[0..n) of the file; 0 or -1 with err set. */
static int
feed(struct parser *p, const char *buf, size_t n, struct m365_err *err)
{
	size_t pos = 0;

	while (pos < n) {
		const char *nl = memchr(buf + pos, '\n', n - pos);
		size_t k = nl ? (size_t)(nl - (buf + pos)) : n - pos;
		if (p->len + k > LOCAL_LINE_MAX)
			p->over = true;
		else {
			if (memchr(buf + pos, '\0', k) != NULL)
				p->nul = true;
			memcpy(p->line + p->len, buf + pos, k);
			p->len += k;
		}
		pos += k;
		if (nl == NULL)
			break;
		pos++;
		if (end_line(p, err) < 0)
			return -1;
		p->over = p->nul = false;
	}
	return 0;
}

/* A parser of a new empty list named source; -1 with err set. */
static int
start(struct parser *p, const char *source, struct m365_err *err)
{
	memset(p, 0, sizeof(*p));
	if ((p->l = calloc(1, sizeof(*p->l))) == NULL ||
	    (p->l->source = strdup(source)) == NULL ||
	    (p->l->strings = arena_new()) == NULL) {
		m365_local_free(p->l);
		p->l = NULL;
		return m365_err_set(err, M365_E_NOMEM, "%s: out of memory",
		                    source);
	}
	return 0;
}

/* The last line, the breadth check: the list, or NULL with err set. */
static struct m365_local *
finish(struct parser *p, struct m365_err *err)
{
	struct m365_local *l = p->l;
	struct m365_rule *fit;

	if ((p->len > 0 || p->over || p->nul) && end_line(p, err) < 0)
		goto fail;
	if (l->n_rules > 0 && l->n_rules < p->cap &&
	    (fit = realloc(l->rules, l->n_rules * sizeof(*fit))) != NULL)
		l->rules = fit;
	if (m365_breadth_check_local(l, err) < 0)
		goto fail;
	return l;
fail:
	m365_local_free(l);
	return NULL;
}

struct m365_local *
m365_local_parse(const char *buf, size_t len, const char *source,
                 struct m365_err *err)
{
	struct parser *p = malloc(sizeof(*p));
	struct m365_local *l = NULL;

	if (p == NULL) {
		m365_err_set(err, M365_E_NOMEM, "%s: out of memory", source);
		return NULL;
	}
	if (start(p, source, err) == 0) {
		if (feed(p, buf, len, err) == 0)
			l = finish(p, err);
		else
			m365_local_free(p->l);
	}
	free(p);
	return l;
}

/* Reads fd to its end through the parser; 0 or -1 with err set. */
static int
read_all(struct parser *p, int fd, const char *path, struct m365_err *err)
{
	char *buf = malloc(READ_BLOCK);
	int rc = 0;

	if (buf == NULL)
		return m365_err_set(err, M365_E_NOMEM, "%s: out of memory",
		                    path);
	for (;;) {
		ssize_t n = read(fd, buf, READ_BLOCK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = m365_err_set(err, M365_E_IO, "%s: %s", path,
			                  strerror(errno));
			break;
		}
		if (n == 0 || (rc = feed(p, buf, (size_t)n, err)) < 0)
			break;
	}
	free(buf);
	return rc;
}

struct m365_local *
m365_local_load_file_max(const char *path, size_t max, const char *max_name,
                         struct m365_err *err)
{
	struct m365_local *l = NULL;
	struct parser *p;
	struct stat st;
	int fd;

	if (max == 0)
		max = M365_LOCAL_MAX_BYTES;
	if ((fd = m365_open_input(path, &st, err)) < 0)
		return NULL;
	if ((size_t)st.st_size > max) {
		m365_err_set(err, M365_E_INPUT,
		             "%s: %lld bytes, larger than %s (%zu); raise it "
		             "to load this list",
		             path, (long long)st.st_size,
		             max_name ? max_name : "the local list limit", max);
		close(fd);
		return NULL;
	}
	if ((p = malloc(sizeof(*p))) == NULL) {
		m365_err_set(err, M365_E_NOMEM, "%s: out of memory", path);
	} else if (start(p, path, err) == 0) {
		if (read_all(p, fd, path, err) == 0)
			l = finish(p, err);
		else
			m365_local_free(p->l);
	}
	free(p);
	close(fd);
	return l;
}

struct m365_local *
m365_local_load_file(const char *path, struct m365_err *err)
{
	return m365_local_load_file_max(path, 0, NULL, err);
}

void
m365_rule_cidr(const struct m365_rule *r, struct m365_cidr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = m365_rule_family(r);
	memcpy(out->addr, r->addr, sizeof(out->addr));
	out->plen = r->plen;
}

const char *
m365_rule_warning(const struct m365_rule *r)
{
	if (!(r->flags & M365_RULE_BACKTRACKS))
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
		if (l->rules[i].kind == M365_RULE_REGEX)
			pcre2_code_free(l->rules[i].re);
	free(l->rules);
	arena_free(l->strings);
	free(l->source);
	free(l);
}
