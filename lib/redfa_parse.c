/*
 * redfa_parse.c - the pattern syntax redfa covers, into a tree (see
 * redfa.h).  Anything it is not sure PCRE2 reads the same way is refused,
 * so that the pattern stays with PCRE2.
 */
#include <string.h>

#include "redfa_impl.h"

struct parser {
	const char *s;
	size_t len, at;
	struct re_tree *t;
};

static int
peek(const struct parser *p, size_t ahead)
{
	return p->at + ahead < p->len ? (unsigned char)p->s[p->at + ahead] : -1;
}

static int
new_node(struct parser *p, enum re_kind kind)
{
	struct re_node *n;

	if (p->t->n_node == RE_NODES_MAX)
		return -1;
	n = &p->t->node[p->t->n_node];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->kid = n->next = -1;
	return p->t->n_node++;
}

/* A new RE_SET node and its empty set; -1 when full. */
static int
new_set(struct parser *p, struct byteset **set)
{
	int n;

	if (p->t->n_set == RE_SETS_MAX || (n = new_node(p, RE_SET)) < 0)
		return -1;
	p->t->node[n].set = p->t->n_set;
	*set = &p->t->set[p->t->n_set++];
	memset(*set, 0, sizeof(**set));
	return n;
}

static int
is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static void
add_range(struct byteset *s, unsigned lo, unsigned hi)
{
	for (; lo <= hi; lo++)
		byteset_add(s, lo);
}

/* The bytes of class escape \c (d, w, s and their capitals) into s;
 * 0, or -1 when c names no such class. */
static int
class_escape(int c, struct byteset *s)
{
	struct byteset e = {{0}};
	int i;

	switch (c | 0x20) {
	case 'd': add_range(&e, '0', '9'); break;
	case 'w':
		add_range(&e, '0', '9');
		add_range(&e, 'a', 'z');
		add_range(&e, 'A', 'Z');
		byteset_add(&e, '_');
		break;
	case 's':
		add_range(&e, '\t', '\r'); /* \t \n \v \f \r */
		byteset_add(&e, ' ');
		break;
	default: return -1;
	}
	for (i = 0; i < 4; i++)
		s->w[i] |= c >= 'a' ? e.w[i] : ~e.w[i];
	return 0;
}

/* After a backslash: a literal byte (>= 0), -2 for a class escape
 * (its bytes added to s), or -1 for anything else. */
static int
escape(struct parser *p, struct byteset *s)
{
	int c = peek(p, 0);

	if (c < 0)
		return -1;
	p->at++;
	if (!is_alnum(c))
		return c;
	return class_escape(c, s) == 0 ? -2 : -1;
}

/* One end of a range in a class: a literal byte, or -1. */
static int
class_literal(struct parser *p)
{
	struct byteset dummy = {{0}};
	int c = peek(p, 0);

	if (c < 0 || (c == '[' && (peek(p, 1) == ':' || peek(p, 1) == '.' ||
	                           peek(p, 1) == '=')))
		return -1;
	p->at++;
	if (c == '\\')
		return escape(p, &dummy); /* -2 (a class) is refused too */
	return c;
}

/*
 * True when the class at the parser (after its '[') starts like a POSIX
 * item, [:x:] [.x.] or [=x=]: its first byte is ':', '.' or '=' and comes
 * again just before a ']', with no ']' (or '[' and that byte) before.
 * PCRE2 reads a POSIX class or refuses the pattern there; "[.]" is a dot.
 */
static int
posix_item(const struct parser *p)
{
	int t = peek(p, 0), c;
	size_t i;

	if (t != ':' && t != '.' && t != '=')
		return 0;
	for (i = 1; (c = peek(p, i)) >= 0; i++) {
		if (c == '\\' &&
		    (peek(p, i + 1) == ']' || peek(p, i + 1) == '\\'))
			i++;
		else if (c == ']' || (c == '[' && peek(p, i + 1) == t))
			return 0;
		else if (c == t && peek(p, i + 1) == ']')
			return 1;
	}
	return 0;
}

/* [...] after its '['. */
static int
parse_class(struct parser *p)
{
	struct byteset *s;
	int n = new_set(p, &s), negate = 0, first = 1, i;

	if (n < 0)
		return -1;
	if (posix_item(p))
		return -1;
	if (peek(p, 0) == '^') {
		negate = 1;
		p->at++;
	}
	for (;; first = 0) {
		int lo, hi, c = peek(p, 0);
		if (c < 0)
			return -1;
		if (c == ']' && !first) {
			p->at++;
			break;
		}
		if (c == '\\') {
			p->at++;
			if ((lo = escape(p, s)) == -1)
				return -1;
			if (lo == -2) { /* \d-x: PCRE2 reads it its own way */
				if (peek(p, 0) == '-' && peek(p, 1) != ']')
					return -1;
				continue;
			}
		} else if ((lo = class_literal(p)) < 0) {
			return -1;
		}
		if (peek(p, 0) == '-' && peek(p, 1) != ']' && peek(p, 1) >= 0) {
			p->at++;
			if ((hi = class_literal(p)) < 0 || hi < lo)
				return -1;
			add_range(s, (unsigned)lo, (unsigned)hi);
		} else {
			byteset_add(s, (unsigned)lo);
		}
	}
	if (negate)
		for (i = 0; i < 4; i++)
			s->w[i] = ~s->w[i];
	return n;
}

/* Appends node n to the kids of parent (tail: its last kid, or -1). */
static void
append(struct parser *p, int parent, int *tail, int n)
{
	if (*tail < 0)
		p->t->node[parent].kid = n;
	else
		p->t->node[*tail].next = n;
	*tail = n;
}

static int parse_seq(struct parser *p, int top, int *at_end);

/* Alternatives up to a ')' (not taken). */
static int
parse_alt(struct parser *p)
{
	int n = new_node(p, RE_ALT), tail = -1, k;

	if (n < 0)
		return -1;
	for (;;) {
		if ((k = parse_seq(p, 0, NULL)) < 0)
			return -1;
		append(p, n, &tail, k);
		if (peek(p, 0) != '|')
			return n;
		p->at++;
	}
}

/* {n}, {n,} or {n,m} at the parser (its '{' not taken yet); -1 when
 * the text is not exactly that. */
static int
parse_count(struct parser *p, int *min, int *max)
{
	int v[2] = {0, 0}, k = 0, digits = 0, c;

	p->at++;
	while ((c = peek(p, 0)) >= 0) {
		p->at++;
		if (c >= '0' && c <= '9') {
			if ((v[k] = v[k] * 10 + (c - '0')) > REDFA_COUNT_MAX)
				return -1;
			digits++;
		} else if (c == ',' && k == 0 && digits > 0) {
			k = 1;
			digits = 0;
		} else if (c == '}' && (digits > 0 || k == 1)) {
			*min = v[0];
			*max = k == 0 ? v[0] : digits > 0 ? v[1] : REP_INF;
			return *max == REP_INF || *max >= *min ? 0 : -1;
		} else {
			return -1;
		}
	}
	return -1;
}

/* One atom and its quantifier; the node, or -1. */
static int
parse_piece(struct parser *p)
{
	struct byteset *s;
	int n, r, c = peek(p, 0), min, max;

	p->at++;
	if (c == '(') {
		if (peek(p, 0) == '?') {
			if (peek(p, 1) != ':')
				return -1;
			p->at += 2;
		}
		if ((n = parse_alt(p)) < 0 || peek(p, 0) != ')')
			return -1;
		p->at++;
	} else if (c == '[') {
		n = parse_class(p);
	} else if (strchr("*+?{^$)", c) != NULL) {
		return -1;
	} else if ((n = new_set(p, &s)) >= 0) {
		if (c == '.') {
			add_range(s, 0, 255);
			s->w[0] &= ~(1ull << '\n');
		} else if (c == '\\') {
			if ((c = escape(p, s)) == -1)
				return -1;
			if (c >= 0)
				byteset_add(s, (unsigned)c);
		} else {
			byteset_add(s, (unsigned)c);
		}
	}
	if (n < 0)
		return -1;
	c = peek(p, 0);
	if (c == '*' || c == '+' || c == '?') {
		p->at++;
		min = c == '+';
		max = c == '?' ? 1 : REP_INF;
	} else if (c == '{') {
		/* X{0} matches nothing, but PCRE2 (10.30 to 10.42 at least)
		 * reads (a|.*b){0}c as a pattern that can only match at the
		 * subject's start: leave those to PCRE2 */
		if (parse_count(p, &min, &max) < 0 || max == 0)
			return -1;
	} else {
		return n;
	}
	if (peek(p, 0) == '?') /* lazy: the same matches, found later */
		p->at++;
	c = peek(p, 0);
	if (c == '+' || c == '*' || c == '?' || c == '{')
		return -1; /* possessive, or a repeated quantifier */
	if ((r = new_node(p, RE_REP)) < 0)
		return -1;
	p->t->node[r].kid = n;
	p->t->node[r].min = min;
	p->t->node[r].max = max;
	return r;
}

/*
 * Pieces up to a '|', a ')' or the end (none taken).  At the top level a
 * '$' just before one of those sets *at_end; elsewhere anchors are
 * refused.
 */
static int
parse_seq(struct parser *p, int top, int *at_end)
{
	int n = new_node(p, RE_CAT), tail = -1, k, c;

	if (n < 0)
		return -1;
	while ((c = peek(p, 0)) >= 0 && c != '|' && c != ')') {
		if (c == '$' && top && (peek(p, 1) < 0 || peek(p, 1) == '|')) {
			p->at++;
			*at_end = 1;
			break;
		}
		if ((k = parse_piece(p)) < 0)
			return -1;
		append(p, n, &tail, k);
	}
	return n;
}

int
re_parse(const char *src, size_t len, struct re_tree *t)
{
	struct parser p = {src, len, 0, t};

	t->n_node = t->n_set = t->n_branch = 0;
	for (;;) {
		struct re_branch *b;
		int at_end = 0;
		if (t->n_branch == RE_BRANCHES_MAX)
			return -1;
		b = &t->branch[t->n_branch++];
		b->at_start = peek(&p, 0) == '^';
		if (b->at_start)
			p.at++;
		if ((b->node = parse_seq(&p, 1, &at_end)) < 0)
			return -1;
		b->at_end = at_end;
		if (p.at == p.len)
			return 0;
		if (peek(&p, 0) != '|')
			return -1; /* an unbalanced ')' */
		p.at++;
	}
}

/* The one byte of set node n, or -1 when it is not a single byte. */
static int
single_byte(const struct re_tree *t, int n)
{
	const struct byteset *s;
	int w, c = -1;

	if (t->node[n].kind != RE_SET)
		return -1;
	s = &t->set[t->node[n].set];
	for (w = 0; w < 4; w++) {
		if (s->w[w] == 0)
			continue;
		if (c >= 0 || (s->w[w] & (s->w[w] - 1)) != 0)
			return -1;
		c = w * 64 + __builtin_ctzll(s->w[w]);
	}
	return c;
}

/* The kids of branch b into kid[]; their number. */
static int
branch_kids(const struct re_tree *t, int b, int *kid)
{
	int n = 0, k;

	for (k = t->node[t->branch[b].node].kid; k >= 0; k = t->node[k].next)
		kid[n++] = k;
	return n;
}

size_t
re_strip_tail(struct re_tree *t, uint8_t *tail)
{
	static _Thread_local int kid[RE_NODES_MAX];
	size_t len = RE_TAIL_MAX, i;
	int b, n;

	for (b = 0; b < t->n_branch; b++) {
		if (!t->branch[b].at_end)
			return 0;
		n = branch_kids(t, b, kid);
		for (i = 0; i < len && (int)i < n; i++) {
			int c = single_byte(t, kid[n - 1 - (int)i]);
			if (c < 0 || (b > 0 && tail[RE_TAIL_MAX - 1 - i] != c))
				break;
			tail[RE_TAIL_MAX - 1 - i] = (uint8_t)c;
		}
		len = i;
	}
	for (b = 0; len > 0 && b < t->n_branch; b++) {
		n = branch_kids(t, b, kid);
		if ((size_t)n == len)
			t->node[t->branch[b].node].kid = -1;
		else
			t->node[kid[n - 1 - (int)len]].next = -1;
	}
	memmove(tail, tail + RE_TAIL_MAX - len, len);
	return len;
}
