/* fuzz_icap_dest.c - libFuzzer: a request line and up to 16 header lines
 * through dest_parse; a destination must be a sane host and port, and a
 * failure must leave both empty and say why. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dest.h"

#define MAX_HEADERS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Length of the piece of data that ends at a NUL, a newline or the end. */
static size_t
piece_len(const uint8_t *data, size_t size)
{
	size_t n = 0;

	while (n < size && data[n] != '\0' && data[n] != '\n')
		n++;
	return n;
}

/* A malloc'd NUL-terminated copy, sized exactly so ASan sees overreads. */
static char *
copy(const uint8_t *data, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

static void
check_ok(const struct dest *d)
{
	size_t n = strnlen(d->host, sizeof(d->host)), i;
	unsigned long port = 0;

	if (n == 0 || n > DEST_HOST_MAX || d->from == DEST_FROM_NONE ||
	    d->why != NULL)
		abort();
	for (i = 0; i < n; i++)
		if ((unsigned char)d->host[i] < 0x20 || d->host[i] == 0x7f ||
		    strchr(" /?#@", d->host[i]) != NULL)
			abort();
	n = strnlen(d->port, sizeof(d->port));
	if (n == 0 || n > 5)
		abort();
	for (i = 0; i < n; i++) {
		if (d->port[i] < '0' || d->port[i] > '9')
			abort();
		port = port * 10 + (unsigned long)(d->port[i] - '0');
	}
	if (port < 1 || port > 65535 || d->port[0] == '0')
		abort();
}

static void
check_failed(const struct dest *d)
{
	if (d->from != DEST_FROM_NONE || d->host[0] != '\0' ||
	    d->port[0] != '\0' || d->why == NULL || d->why[0] == '\0' ||
	    strchr(d->why, '\n') != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line, *headers[MAX_HEADERS];
	size_t n_headers = 0, n, i;
	struct dest d;
	enum dest_status st;

	n = piece_len(data, size);
	line = copy(data, n);
	for (i = n; i < size && n_headers < MAX_HEADERS; i += n) {
		i++; /* the separator */
		n = piece_len(data + i, size - i);
		headers[n_headers++] = copy(data + i, n);
	}
	memset(&d, 0x5a, sizeof(d));
	st = dest_parse(line, (const char *const *)headers, n_headers, &d);
	if (st == DEST_OK)
		check_ok(&d);
	else if (st == DEST_MISSING || st == DEST_MALFORMED)
		check_failed(&d);
	else
		abort();
	for (i = 0; i < n_headers; i++)
		free(headers[i]);
	free(line);
	return 0;
}
