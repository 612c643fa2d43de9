/*
 * m365_classify.h - the one question of contract.md: is this destination a
 * Microsoft 365 endpoint that the policy lets through without
 * authentication, TLS inspection or content adaptation?
 *
 * The helper, the ICAP service and m365ctl all call m365_classify(); none has
 * matching code of its own.  Nothing here allocates, locks or does I/O on the
 * fast path, and it is safe to call from many threads on one list.
 */
#ifndef M365_CLASSIFY_H
#define M365_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "m365_host.h"
#include "m365_list.h"

enum m365_result { M365_ERR = 0, M365_OK = 1 };

/* Why the answer is what it is. */
enum m365_why {
	M365_WHY_SET,        /* OK: a selected Microsoft set matched */
	M365_WHY_LOCAL,      /* OK: a local bypass rule matched */
	M365_WHY_NO_MATCH,   /* ERR: nothing matched (at this port) */
	M365_WHY_UNSELECTED, /* ERR: only sets the policy leaves out */
	M365_WHY_NEVER,      /* ERR: a local never rule matched */
	M365_WHY_SNI,        /* ERR: DST is a bypass but the SNI is not */
	M365_WHY_NO_DST,     /* ERR: no destination */
	M365_WHY_BAD_DST,    /* ERR: the destination is not a valid host */
	M365_WHY_BAD_PORT,   /* ERR: the port is not 1-65535 or "-" */
	M365_WHY_BAD_SNI,    /* ERR: the SNI is not a valid host */
	M365_WHY_NO_LIST     /* ERR: no list loaded (list == NULL) */
};

struct m365_verdict {
	enum m365_result result;
	enum m365_why why;
	/* OK by a set: the winner; ERR: the best unselected match, or NULL. */
	const struct m365_set *set;
	/* the local rule that decided (LOCAL, NEVER), or NULL */
	const struct m365_rule *rule;
	/* "Optimize".."Default", "Local", or NULL */
	const char *category;
	/* service area, "Local", or NULL */
	const char *service;
	/* a short static explanation for an ERR answer's message=, or NULL */
	const char *message;
	/* the front end's answer text for this verdict, built with the list
	 * (m365_options.answer), or NULL; valid as long as the list */
	const char *text;
	size_t text_len;
};

/*
 * Classifies DST [PORT [SNI]].  dst, port and sni are raw values as received
 * (NUL-terminated; NULL, "" or "-" for none; percent-encoding allowed).  The
 * verdict's pointers stay valid as long as the caller's reference on list.
 * list may be NULL: the answer is then ERR (M365_WHY_NO_LIST).
 */
void m365_classify(const struct m365_list *list, const char *dst,
                   const char *port, const char *sni, struct m365_verdict *v);

/*
 * m365_classify() on values given with their lengths: dst[0..dst_len),
 * port[0..port_len), sni[0..sni_len), none of them NUL-terminated (NULL
 * for a value not given).  For a front end that knows where its fields
 * end.
 */
void m365_classify_n(const struct m365_list *list, const char *dst,
                     size_t dst_len, const char *port, size_t port_len,
                     const char *sni, size_t sni_len, struct m365_verdict *v);

/* One annotation of a verdict, such as m365_category=Allow. */
struct m365_note {
	const char *key;
	const char *value;
};

#define M365_NOTES_MAX 4

/*
 * The verdict's annotations as key/value pairs, in the order every front
 * end reports them: m365_category (when the verdict has a category),
 * m365_service and m365_set (for an OK by a set or a local rule), and
 * message (message when not NULL, else the verdict's own, when it has
 * one).  Fills notes and returns how many there are.  The values point
 * into the verdict's list, message, or static strings: valid as long as
 * the list reference and message.  Each front end formats them its own
 * way (Squid key=value pairs, ICAP X-M365-* headers).
 */
size_t m365_verdict_notes(const struct m365_verdict *v, const char *message,
                          struct m365_note notes[M365_NOTES_MAX]);

/*
 * Parses a port as the front ends receive it: returns -1 for none (NULL, or
 * exactly "-" as received), 0 for anything else that does not
 * percent-decode to a decimal 1..65535 ("", "%2d", "+443", "0443x"), else
 * the port.
 */
int m365_port_parse(const char *s);

/* Which value a hit is about. */
enum m365_on { M365_ON_DST, M365_ON_SNI };

/* One pattern that matched, for m365_explain(). */
struct m365_hit {
	enum m365_on on;
	const struct m365_set *set;   /* a Microsoft set, or NULL */
	const struct m365_rule *rule; /* a local rule, or NULL */
	const char *pattern;          /* the url, CIDR or rule text */
	bool port_ok;                 /* set: port unknown or in tcpPorts */
	bool selected;                /* set: the policy selects it */
};

struct m365_explanation {
	struct m365_verdict verdict;
	struct m365_host dst, sni; /* normalised inputs */
	int port;                  /* -1 unknown, 0 invalid, else port */
	struct m365_hit *hits;     /* every match, DST first; owned */
	size_t n_hits;
};

/*
 * Classifies like m365_classify() (the verdict is the same) and also lists
 * every set and local rule whose pattern matched DST or SNI, with whether
 * the port and the policy allowed it.  Returns 0, or -1 on allocation
 * failure.  Free with m365_explanation_free().
 */
int m365_explain(const struct m365_list *list, const char *dst,
                 const char *port, const char *sni,
                 struct m365_explanation *out);

/* Frees the hits; out may be NULL. */
void m365_explanation_free(struct m365_explanation *out);

/* A one-line reason for the verdict, e.g. "set 12 (Allow) is the best
 * selected match"; written into buf, returned. */
char *m365_verdict_reason(const struct m365_verdict *v, char *buf, size_t len);

#endif
