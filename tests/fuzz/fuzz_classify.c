/* fuzz_classify.c - libFuzzer: arbitrary DST, PORT and SNI (split at NUL
 * bytes) against the bundled list, through classify and explain. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "m365_classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct m365_list *list;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct m365_options opt = {0};
	struct m365_explanation e;
	struct m365_verdict v;
	struct m365_err err;
	char *buf, *f[3] = {NULL, NULL, NULL};
	size_t i, n = 0;

	if (list == NULL && (list = m365_list_load(&opt, &err)) == NULL)
		abort();
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	f[n++] = buf;
	for (i = 0; i < size && n < 3; i++)
		if (buf[i] == '\0')
			f[n++] = buf + i + 1;
	m365_classify(list, f[0], f[1], f[2], &v);
	if (m365_explain(list, f[0], f[1], f[2], &e) == 0) {
		if (e.verdict.result != v.result)
			abort(); /* explain must agree with classify */
		m365_explanation_free(&e);
	}
	free(buf);
	return 0;
}
