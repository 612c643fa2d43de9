/*
 * redfa.c - a parsed pattern (redfa_parse.c) to a Thompson NFA, then to a
 * DFA by the subset construction over byte classes (see redfa.h).
 *
 * Search anywhere is by adding the start states of the alternatives not
 * anchored with '^' to every state; an alternative that ends without '$'
 * accepts at once (a match somewhere is all the caller asks), one that
 * ends with '$' only at the end of the subject.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "redfa_impl.h"

enum nfa_kind { N_SET, N_SPLIT, N_ACC_ANY, N_ACC_END };

struct nfa_state {
	enum nfa_kind kind;
	int set;       /* N_SET: the tree's set */
	int out, out1; /* N_SET: out; N_SPLIT: both (-1: none) */
};

#define NFA_MAX 1024
#define WORDS (NFA_MAX / 64)

struct build {
	const struct re_tree *t;
	struct nfa_state st[NFA_MAX];
	int n;
	/* the DFA's states as sets of NFA states, and their transitions */
	uint64_t (*sets)[WORDS];
	uint8_t *next, flags[REDFA_STATES_MAX];
	uint64_t hash[REDFA_STATES_MAX]; /* of each state's set */
	int n_dfa;
	uint8_t cls[256], rep[256]; /* byte to class; a byte of each class */
	int n_cls;
	uint8_t tail[RE_TAIL_MAX]; /* the literal end cut off the tree */
	size_t tail_len;
	long work, limit; /* steps taken, and the most it may take */
};

/* The most steps (NFA states visited, sets compared) one construction
 * may take: a pattern that needs more stays with PCRE2. */
#define WORK_MAX 2000000

/*
 * The bytes a subject is made of (a hostname, an IP literal's text) as
 * symbols 1 to SYMS - 1; every other byte is symbol 0, which the slow
 * path reads through the full table.
 */
#define SYMS 41
static uint8_t sym_of[256];
static const char sym_bytes[] = "abcdefghijklmnopqrstuvwxyz0123456789.-_:";

static void
init_syms(void)
{
	int i;

	for (i = 0; sym_bytes[i] != '\0'; i++)
		sym_of[(unsigned char)sym_bytes[i]] = (uint8_t)(i + 1);
}

/*
 * The hot part first: a pattern tried on one name touches the header,
 * the tail and the rows of the states it passes (one row of n_cls next
 * states per state, state 0 dead).  The table of every byte is last (the
 * slow path's).
 */
struct redfa {
	uint8_t start, n_states, tail_len;
	uint16_t n_cls;
	uint8_t sym_cls[SYMS]; /* symbol to class (0: unused) */
	/* tail[tail_len]: the literal end every match has (see strip_tail()),
	 * flags[n_states], next[n_states * n_cls], cls[256] (byte to class);
	 * no pointer, so that a copy is the same automaton (redfa_copy()) */
	uint8_t data[];
};

_Static_assert(_Alignof(struct redfa) <= REDFA_ALIGN,
               "a copy at REDFA_ALIGN is aligned");

/* The table of every byte's class (the slow path's), last in d->data. */
static const uint8_t *
slow_cls(const struct redfa *d)
{
	return d->data + d->tail_len + d->n_states +
	       (size_t)d->n_states * d->n_cls;
}

#define F_ANY 1 /* a match ended: the answer is yes */
#define F_END 2 /* a match ends here if the subject does */

static int
add(struct build *b, enum nfa_kind kind, int set, int out, int out1)
{
	if (b->n == NFA_MAX)
		return -1;
	b->st[b->n] = (struct nfa_state){kind, set, out, out1};
	return b->n++;
}

static int gen(struct build *b, int node, int next);

/* The kids from k on, in a row, then next. */
static int
gen_cat(struct build *b, int k, int next)
{
	int rest;

	if (k < 0)
		return next;
	if ((rest = gen_cat(b, b->t->node[k].next, next)) < 0)
		return -1;
	return gen(b, k, rest);
}

/* One of the kids from k on, then next. */
static int
gen_alt(struct build *b, int k, int next)
{
	int first, rest;

	if ((first = gen(b, k, next)) < 0)
		return -1;
	if (b->t->node[k].next < 0)
		return first;
	if ((rest = gen_alt(b, b->t->node[k].next, next)) < 0)
		return -1;
	return add(b, N_SPLIT, 0, first, rest);
}

static int
gen_rep(struct build *b, const struct re_node *n, int next)
{
	int r = next, i, loop, body;

	if (n->max == REP_INF) {
		if ((loop = add(b, N_SPLIT, 0, -1, next)) < 0 ||
		    (body = gen(b, n->kid, loop)) < 0)
			return -1;
		b->st[loop].out = body;
		r = loop;
	} else {
		/* r allows up to i more copies */
		for (i = n->min; i < n->max; i++)
			if ((body = gen(b, n->kid, r)) < 0 ||
			    (r = add(b, N_SPLIT, 0, body, next)) < 0)
				return -1;
	}
	for (i = 0; i < n->min; i++)
		if ((r = gen(b, n->kid, r)) < 0)
			return -1;
	return r;
}

/* The NFA of tree node `node` followed by state next; its start. */
static int
gen(struct build *b, int node, int next)
{
	const struct re_node *n = &b->t->node[node];

	switch (n->kind) {
	case RE_SET: return add(b, N_SET, n->set, next, -1);
	case RE_CAT: return gen_cat(b, n->kid, next);
	case RE_ALT: return n->kid < 0 ? next : gen_alt(b, n->kid, next);
	case RE_REP: return gen_rep(b, n, next);
	default: return next;
	}
}

/* Adds state s and what it reaches without a byte to set. */
static void
closure(struct build *b, int s, uint64_t *set)
{
	int stack[2 * NFA_MAX + 2], top = 0; /* a state per split arm */

	stack[top++] = s;
	while (top > 0) {
		s = stack[--top];
		if (s < 0 || (set[s >> 6] >> (s & 63) & 1))
			continue;
		set[s >> 6] |= 1ull << (s & 63);
		b->work++;
		if (b->st[s].kind == N_SPLIT) {
			stack[top++] = b->st[s].out;
			stack[top++] = b->st[s].out1;
		}
	}
}

/* Splits the byte classes so that no class straddles a set. */
static void
byte_classes(struct build *b)
{
	int i, c;

	memset(b->cls, 0, sizeof(b->cls));
	b->n_cls = 1;
	uint8_t used[RE_SETS_MAX] = {0};

	for (i = 0; i < b->n; i++) /* the sets the NFA still reads */
		if (b->st[i].kind == N_SET)
			used[b->st[i].set] = 1;
	for (i = 0; i < b->t->n_set; i++) {
		int map[256][2], n = 0;
		if (!used[i])
			continue;
		memset(map, -1, sizeof(map));
		for (c = 0; c < 256; c++) {
			int in = byteset_has(&b->t->set[i], (unsigned)c);
			int *m = &map[b->cls[c]][in];
			if (*m < 0)
				*m = n++;
			b->cls[c] = (uint8_t)*m;
		}
		b->n_cls = n;
	}
	for (c = 255; c >= 0; c--)
		b->rep[b->cls[c]] = (uint8_t)c;
}

/* The DFA state of NFA set `set` (added when new); -1 when too many. */
static int
state_of(struct build *b, const uint64_t *set)
{
	int i, s;
	uint8_t f = 0;

	uint64_t h = 0;

	for (i = 0; i < WORDS; i++)
		h = (h ^ set[i]) * 0x9e3779b97f4a7c15ull;
	b->work += 1 + b->n_dfa / 8;
	for (i = 0; i < b->n_dfa; i++)
		if (b->hash[i] == h &&
		    memcmp(b->sets[i], set, sizeof(b->sets[i])) == 0)
			return i;
	if (b->n_dfa == REDFA_STATES_MAX)
		return -1;
	memcpy(b->sets[b->n_dfa], set, sizeof(b->sets[0]));
	b->hash[b->n_dfa] = h;
	for (s = 0; s < b->n; s++)
		if (set[s >> 6] >> (s & 63) & 1)
			f |= b->st[s].kind == N_ACC_ANY   ? F_ANY
			     : b->st[s].kind == N_ACC_END ? F_END
			                                  : 0;
	b->flags[b->n_dfa] = f;
	return b->n_dfa++;
}

/* Moves NFA state s on a byte of class c into next; -1 when the
 * construction has used up its budget. */
static int
step(struct build *b, int s, int c, uint64_t *next)
{
	const struct nfa_state *ns = &b->st[s];

	if (++b->work > b->limit)
		return -1;
	if (ns->kind == N_SET && byteset_has(&b->t->set[ns->set], b->rep[c]))
		closure(b, ns->out, next);
	return 0;
}

/* The subset construction from the start set `init`, with `again` (the
 * unanchored starts) added after every byte. */
static int
subsets(struct build *b, const uint64_t *init, const uint64_t *again)
{
	uint64_t empty[WORDS] = {0}, next[WORDS];
	int at, c, s, w, start;

	if (state_of(b, empty) != 0 || (start = state_of(b, init)) < 0)
		return -1;
	for (at = 0; at < b->n_dfa; at++) {
		for (c = 0; c < b->n_cls; c++) {
			int to = at;
			if (at != 0 && !(b->flags[at] & F_ANY)) {
				memcpy(next, again, sizeof(next));
				for (w = 0; w < WORDS; w++) {
					uint64_t m = b->sets[at][w];
					for (; m != 0; m &= m - 1) {
						s = w * 64 + __builtin_ctzll(m);
						if (step(b, s, c, next) < 0)
							return -1;
					}
				}
				if ((to = state_of(b, next)) < 0)
					return -1;
			}
			b->next[at * b->n_cls + c] = (uint8_t)to;
		}
	}
	return start;
}

/* The automaton of a parsed tree; NULL when too large. */
static struct redfa *
build(struct build *b)
{
	uint64_t init[WORDS] = {0}, again[WORDS] = {0};
	struct redfa *d;
	size_t rows;
	int i, start, acc_any, acc_end;

	if ((acc_any = add(b, N_ACC_ANY, 0, -1, -1)) < 0 ||
	    (acc_end = add(b, N_ACC_END, 0, -1, -1)) < 0)
		return NULL;
	for (i = 0; i < b->t->n_branch; i++) {
		const struct re_branch *br = &b->t->branch[i];
		int s = gen(b, br->node, br->at_end ? acc_end : acc_any);
		if (s < 0)
			return NULL;
		closure(b, s, init);
		if (!br->at_start)
			closure(b, s, again);
	}
	byte_classes(b);
	b->sets = malloc(sizeof(*b->sets) * REDFA_STATES_MAX);
	b->next = malloc((size_t)REDFA_STATES_MAX * (size_t)b->n_cls);
	if (b->sets == NULL || b->next == NULL ||
	    (start = subsets(b, init, again)) < 0)
		return NULL;
	rows = (size_t)b->n_dfa * (size_t)b->n_cls;
	if ((d = malloc(sizeof(*d) + b->tail_len + (size_t)b->n_dfa + rows +
	                256)) == NULL)
		return NULL;
	d->start = (uint8_t)start;
	d->n_states = (uint8_t)b->n_dfa;
	d->tail_len = (uint8_t)b->tail_len;
	d->n_cls = (uint16_t)b->n_cls;
	memset(d->sym_cls, 0, sizeof(d->sym_cls));
	for (i = 0; sym_bytes[i] != '\0'; i++)
		d->sym_cls[i + 1] = b->cls[(unsigned char)sym_bytes[i]];
	memcpy(d->data, b->tail, b->tail_len);
	memcpy(d->data + b->tail_len, b->flags, (size_t)b->n_dfa);
	memcpy(d->data + b->tail_len + b->n_dfa, b->next, rows);
	memcpy(d->data + b->tail_len + b->n_dfa + rows, b->cls, 256);
	return d;
}

struct redfa *
redfa_compile(const char *src, size_t len, long *budget)
{
	struct re_tree *t = malloc(sizeof(*t));
	struct build *b = malloc(sizeof(*b));
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct redfa *d = NULL;

	pthread_once(&once, init_syms);
	if (t != NULL && b != NULL && (budget == NULL || *budget > 0) &&
	    re_parse(src, len, t) == 0) {
		memset(b, 0, sizeof(*b));
		b->t = t;
		b->limit =
		    budget != NULL && *budget < WORK_MAX ? *budget : WORK_MAX;
		b->tail_len = re_strip_tail(t, b->tail);
		d = build(b);
		if (budget != NULL)
			*budget -= b->work;
		free(b->sets);
		free(b->next);
	}
	free(t);
	free(b);
	return d;
}

/* The DFA from its start on s[0..len) (the tail cut off): its flags. */
static inline unsigned
run(const struct redfa *d, const char *s, size_t len)
{
	const uint8_t *flags = d->data + d->tail_len;
	const uint8_t *next = flags + d->n_states;
	unsigned st = d->start, n = d->n_cls;
	size_t i;

	/* an accepting state (F_ANY) keeps to itself: no test per byte */
	for (i = 0; i < len && st != 0; i++) {
		unsigned sym = sym_of[(unsigned char)s[i]];
		st = next[st * n + (sym != 0
		                        ? d->sym_cls[sym]
		                        : slow_cls(d)[(unsigned char)s[i]])];
	}
	return flags[st];
}

int
redfa_match(const struct redfa *d, const char *s, size_t len)
{
	if (len < d->tail_len ||
	    !bytes_same(s + len - d->tail_len, (const char *)d->data,
	                d->tail_len))
		return 0;
	return (run(d, s, len - d->tail_len) & (F_ANY | F_END)) != 0;
}

struct redfa *
redfa_copy(const struct redfa *d, void *to)
{
	memcpy(to, d, redfa_bytes(d));
	return to;
}

void
redfa_free(struct redfa *d)
{
	free(d);
}

size_t
redfa_bytes(const struct redfa *d)
{
	return d == NULL ? 0
	                 : sizeof(*d) + d->tail_len + d->n_states +
	                       (size_t)d->n_states * d->n_cls + 256;
}
