/* proto.c - the helper wire format (see proto.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "squid_answer.h"

#define CHANNEL_MAX 256

int
outbuf_reserve(struct outbuf *o, size_t n)
{
	if (o->len + n > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		char *d;
		while (cap < o->len + n)
			cap *= 2;
		if ((d = realloc(o->data, cap)) == NULL)
			return -1;
		o->data = d;
		o->cap = cap;
	}
	return 0;
}

int
outbuf_add(struct outbuf *o, const char *s, size_t n)
{
	if (outbuf_reserve(o, n) < 0)
		return -1;
	memcpy(o->data + o->len, s, n);
	o->len += n;
	return 0;
}

void
outbuf_free(struct outbuf *o)
{
	free(o->data);
	o->data = NULL;
	o->len = o->cap = 0;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Decodes the token at line[*i..len) into *out (advancing it) and returns
 * its start in out, NUL-terminated; sets *nul to 1 when it held a NUL byte,
 * to 2 when its opening quote has no closing one.
 */
static const char *
next_token(const char *line, size_t len, size_t *i, char **out, int *nul,
           const char **raw, size_t *raw_len)
{
	char *start = *out, *o = *out;
	int quoted = 0;

	while (*i < len && is_blank(line[*i]))
		(*i)++;
	if (*i >= len)
		return NULL;
	*raw = line + *i;
	if (line[*i] == '"') {
		quoted = 1;
		(*i)++;
	}
	while (*i < len) {
		char c = line[*i];
		if (quoted ? c == '"' : is_blank(c)) {
			(*i) += quoted;
			quoted = 0;
			break;
		}
		if (c == '\\' && *i + 1 < len) {
			c = line[++*i];
			c = c == 'n'   ? '\n'
			    : c == 'r' ? '\r'
			    : c == 't' ? '\t'
			               : c;
		}
		*nul |= c == '\0';
		*o++ = c;
		(*i)++;
	}
	if (quoted)
		*nul = 2;
	*raw_len = (size_t)(line + *i - *raw);
	*o++ = '\0';
	*out = o;
	return start;
}

/* Bytes that end a plain token (1), or that only the general tokenizer
 * reads (2: quotes, escapes, NUL). */
static const unsigned char token_class[256] = {
    [' '] = 1, ['\t'] = 1, ['"'] = 2, ['\\'] = 2, ['\0'] = 2};

/* SWAR: eight bytes of a word at once. */
#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

/* The high bit of each byte of w that is c. */
static inline uint64_t
byte_is(uint64_t w, unsigned c)
{
	uint64_t x = w ^ (ONES * c);

	return ~(((x & ~HIGH) + ~HIGH) | x | ~HIGH);
}

/*
 * The end of the token that starts at line[i]: the first blank at or
 * after i, or len.  Sets *odd when a quote, backslash or NUL byte comes
 * before it.  Eight bytes at a time, no branch per byte.
 */
static inline __attribute__((always_inline)) size_t
token_end(const char *line, size_t i, size_t len, int *odd)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	for (; i + 8 <= len; i += 8) {
		uint64_t w, blank, bad;
		memcpy(&w, line + i, sizeof(w));
		blank = byte_is(w, ' ') | byte_is(w, '\t');
		bad = byte_is(w, '"') | byte_is(w, '\\') | byte_is(w, 0);
		if (blank != 0) { /* the bytes before the first blank */
			unsigned k = (unsigned)__builtin_ctzll(blank);
			*odd |= (bad & ((1ull << k) - 1)) != 0;
			return i + k / 8;
		}
		*odd |= bad != 0;
	}
#endif
	for (; i < len; i++) {
		unsigned c = token_class[(unsigned char)line[i]];
		if (c == 1)
			break;
		*odd |= c == 2;
	}
	return i;
}

/*
 * The common case: tokens with no quote, backslash or NUL byte, taken
 * where they are in the line.  Returns 1 when it decided, 0 to leave the
 * line to the general tokenizer.
 */
static int
plain_fields(const char *line, size_t len, size_t i, struct request *req)
{
	const char **field[3] = {&req->dst, &req->port, &req->sni};
	size_t *flen[3] = {&req->dst_len, &req->port_len, &req->sni_len};
	size_t f, start;

	for (f = 0; f < 3; f++) {
		int odd = 0;
		while (i < len && token_class[(unsigned char)line[i]] == 1)
			i++;
		if (i >= len)
			break;
		start = i;
		i = token_end(line, i, len, &odd);
		if (odd)
			return 0;
		*field[f] = line + start;
		*flen[f] = i - start;
	}
	return 1;
}

void
proto_parse(const char *line, size_t len, bool concurrency, struct request *req,
            char *scratch)
{
	static const char *const bad[] = {"invalid destination", "invalid port",
	                                  "invalid SNI"};
	static const char *const unclosed[] = {
	    "unterminated quote in destination", "unterminated quote in port",
	    "unterminated quote in SNI"};
	const char **field[3] = {&req->dst, &req->port, &req->sni};
	size_t *flen[3] = {&req->dst_len, &req->port_len, &req->sni_len};
	const char *raw;
	size_t i = 0, raw_len, f;
	char *out = scratch;

	memset(req, 0, sizeof(*req));
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (concurrency) {
		int odd = 0;
		while (i < len && is_blank(line[i]))
			i++;
		req->channel = line + i;
		i = token_end(line, i, len, &odd);
		req->channel_len = (size_t)(line + i - req->channel);
		if (req->channel_len == 0)
			req->channel = NULL;
	}
	if (plain_fields(line, len, i, req))
		return;
	req->dst = req->port = req->sni = NULL;
	for (f = 0; f < 3; f++) {
		int nul = 0;
		*field[f] =
		    next_token(line, len, &i, &out, &nul, &raw, &raw_len);
		if (*field[f] == NULL)
			break;
		*flen[f] = strlen(*field[f]);
		if (nul && req->bad == NULL)
			req->bad = nul == 2 ? unclosed[f] : bad[f];
	}
}

int
proto_answer(struct outbuf *o, const char *channel, size_t channel_len,
             const struct m365_verdict *v, const char *message)
{
	char line[SQUID_ANSWER_MAX];
	const char *text = v->text;
	size_t n = v->text_len;
	char *p;

	if (message != NULL || text == NULL) { /* not built with the list */
		int k = squid_answer_format(v, message, line, sizeof(line));
		if (k < 0)
			return -1;
		text = line;
		n = (size_t)k;
	}
	if (outbuf_reserve(o, channel_len + n + 2) < 0)
		return -1;
	p = o->data + o->len;
	if (channel != NULL) {
		memcpy(p, channel, channel_len);
		p += channel_len;
		*p++ = ' ';
	}
	memcpy(p, text, n);
	p += n;
	*p++ = '\n';
	o->len = (size_t)(p - o->data);
	return 0;
}

const char *
proto_channel(const char *p, size_t len, size_t *n)
{
	size_t i = 0;

	while (i < len && is_blank(p[i]))
		i++;
	*n = 0;
	while (i + *n < len && !is_blank(p[i + *n]) && p[i + *n] != '\0') {
		if (++*n > CHANNEL_MAX)
			return NULL;
	}
	if (*n == 0 || i + *n >= len)
		return NULL;
	return p + i;
}
