/*
 * changes_store.c - where change reports are kept (see changes.h): with
 * the version in Redis, and in the state directory's changes/.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "changes.h"
#include "fileio.h"

/* The largest report read back. */
#define REPORT_MAX (16u << 20)
/* The most reports a state directory's changes/ is looked through for. */
#define SCAN_MAX 4096

struct aged {
	char name[M365_VERSION_MAX + 8];
	long long mtime;
};

static int
newest_first(const void *a, const void *b)
{
	const struct aged *x = a, *y = b;

	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? 1 : -1;
	return strcmp(y->name, x->name);
}

/* Removes the reports of DIR/changes beyond the keep newest. */
static void
prune(const char *cdir, int keep)
{
	struct aged *v = calloc(SCAN_MAX, sizeof(*v));
	char path[4400];
	struct dirent *d;
	struct stat st;
	size_t n = 0, i, len;
	DIR *dp;

	if (v == NULL || (dp = opendir(cdir)) == NULL) {
		free(v);
		return;
	}
	while ((d = readdir(dp)) != NULL && n < SCAN_MAX) {
		len = strlen(d->d_name);
		if (len < 6 || len >= sizeof(v->name) ||
		    strcmp(d->d_name + len - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", cdir, d->d_name);
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		memcpy(v[n].name, d->d_name, len + 1);
		v[n++].mtime = (long long)st.st_mtim.tv_sec * 1000000000LL +
		               st.st_mtim.tv_nsec;
	}
	closedir(dp);
	qsort(v, n, sizeof(*v), newest_first);
	for (i = (size_t)(keep < 1 ? 1 : keep); i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", cdir, v[i].name);
		unlink(path);
	}
	free(v);
}

int
changes_save(const char *dir, const char *version, const char *text, int keep,
             struct m365_err *err)
{
	char cdir[4096], path[4200];

	if ((size_t)snprintf(cdir, sizeof(cdir), "%s/changes", dir) >=
	    sizeof(cdir))
		return m365_err_set(err, M365_E_IO, "%.200s...: too long", dir);
	if (mkdir(cdir, 0755) < 0 && errno != EEXIST)
		return m365_err_set(err, M365_E_IO, "%s: %s", cdir,
		                    strerror(errno));
	snprintf(path, sizeof(path), "%s/%.70s.json", cdir, version);
	if (m365_write_file_atomic(path, text, strlen(text), err) < 0)
		return -1;
	prune(cdir, keep);
	return 0;
}

char *
changes_load(redisContext *c, const char *prefix, const char *dir,
             const char *version, struct m365_err *err)
{
	char path[4200];
	struct stat st;
	size_t len;

	if (c != NULL)
		return m365_store_field(c, prefix, version, "changes",
		                        REPORT_MAX, err);
	snprintf(path, sizeof(path), "%.4000s/changes/%.70s.json", dir,
	         version);
	if (stat(path, &st) < 0 && errno == ENOENT) {
		m365_err_set(err, M365_E_INPUT, "%s: no such report", path);
		return NULL;
	}
	return m365_read_file(path, REPORT_MAX, &len, err);
}
