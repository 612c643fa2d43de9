/* text.c - token names and comma lists (see m365_text.h). */
#include <stdlib.h>
#include <string.h>

#include "m365_text.h"

bool
m365_token(const char *s, size_t n, size_t max, const char *extra)
{
	size_t i;

	if (n == 0 || n > max)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') ||
		      (c != '\0' && strchr(extra, c) != NULL)))
			return false;
	}
	return true;
}

int
m365_split_commas(const char *list, const char *name, size_t max_items,
                  int (*fn)(void *arg, const char *item, struct m365_err *err),
                  void *arg, struct m365_err *err)
{
	const char *p = list;
	size_t n = 0;

	for (;;) {
		char item[M365_ITEM_MAX + 1];
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		while (len > 0 && (*p == ' ' || *p == '\t'))
			p++, len--;
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0)
			return m365_err_set(err, M365_E_INPUT,
			                    "%s: empty item in \"%.200s\"",
			                    name, list);
		if (len > M365_ITEM_MAX || ++n > max_items)
			return m365_err_set(err, M365_E_INPUT,
			                    "%s: item or list too long", name);
		memcpy(item, p, len);
		item[len] = '\0';
		if (fn(arg, item, err) < 0)
			return -1;
		if (end == NULL)
			return 0;
		p = end + 1;
	}
}

int
m365_parse_long(const char *s, long lo, long hi, long *out)
{
	size_t n = strspn(s, "0123456789");
	long v;

	if (n == 0 || s[n] != '\0' || n > 18)
		return -1;
	v = strtol(s, NULL, 10);
	if (v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int
m365_strptr_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}
