/*
 * proto.h - Squid's external ACL helper wire format, as ext_m365_acl speaks
 * it (contract.md, "Helper wire protocol").
 */
#ifndef EXT_M365_PROTO_H
#define EXT_M365_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "m365_classify.h"

/* A growing output buffer of answers. */
struct outbuf {
	char *data;
	size_t len, cap;
};

/* Makes room for n more bytes; returns 0, or -1 when out of memory. */
int outbuf_reserve(struct outbuf *o, size_t n);

/* Appends n bytes; returns 0, or -1 when out of memory. */
int outbuf_add(struct outbuf *o, const char *s, size_t n);

/* Releases the buffer. */
void outbuf_free(struct outbuf *o);

/* One request line, split and decoded. */
struct request {
	const char *channel; /* raw token, or NULL (--no-concurrency) */
	size_t channel_len;
	/* decoded, or NULL; not NUL-terminated: where a field needs no
	 * decoding it is taken in place from the line */
	const char *dst, *port, *sni;
	size_t dst_len, port_len, sni_len;
	const char *bad; /* message when a field held a NUL byte */
};

/*
 * Splits line[0..len) (no newline; a trailing CR is ignored) into req.  With
 * concurrency the first token is the channel ID.  Tokens are separated by
 * spaces or tabs; a token in double quotes may hold spaces; backslash
 * escapes are decoded (Squid's quote=shell).  Decoded fields are written to
 * scratch, which must hold len + 4 bytes.  Tokens after the SNI are ignored.
 */
void proto_parse(const char *line, size_t len, bool concurrency,
                 struct request *req, char *scratch);

/*
 * Appends the answer line for a verdict: "[CHANNEL ]OK|ERR[ key=value...]\n".
 * message overrides the verdict's message when not NULL.  The verdict's
 * text (built with its list) is copied as it is when there is one and no
 * message.  Returns 0 or -1.
 */
int proto_answer(struct outbuf *o, const char *channel, size_t channel_len,
                 const struct m365_verdict *v, const char *message);

/*
 * Returns the channel ID at the start of a line prefix p[0..len) when it is
 * complete (followed by a space or tab) and at most 256 bytes, else NULL; its
 * length goes to *n.
 */
const char *proto_channel(const char *p, size_t len, size_t *n);

#endif
