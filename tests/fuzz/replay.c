/* replay.c - runs a libFuzzer target over saved inputs without libFuzzer,
 * so that `make check` replays every corpus with the ASan+UBSan build.
 *
 *     fuzz_TARGET FILE|DIR...
 *
 * A directory is walked one level (its regular files, in name order).
 * Each input is passed to LLVMFuzzerTestOneInput() in a buffer of its exact
 * size, as libFuzzer does, so that ASan sees any overread.  Prints nothing
 * on success.  A failed invariant (the targets abort), a sanitizer report
 * or a leak (checked after every input when LeakSanitizer runs) prints
 * "replay: FAILED on FILE" on stderr and exits non-zero.  (With gcc, a
 * UBSan report says nothing of the input unless UBSAN_OPTIONS has
 * abort_on_error=1: tests/integration/test_fuzz_replay.sh sets it.)
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The sanitizer runtime's hooks, when there is one (weak: the driver also
 * links without sanitizers). */
extern void __sanitizer_set_death_callback(void (*callback)(void))
    __attribute__((weak));
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));

static const char *current; /* the input being run, for the last words */

static void
say_failed(void)
{
	static const char pre[] = "replay: FAILED on ";
	ssize_t unused;

	if (current == NULL)
		return;
	/* async-signal-safe: this also runs from the SIGABRT handler */
	unused = write(2, pre, sizeof(pre) - 1);
	unused = write(2, current, strlen(current));
	unused = write(2, "\n", 1);
	(void)unused;
	current = NULL;
}

static void
on_abort(int sig)
{
	say_failed();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Reads the whole file into a malloc'd buffer of exactly its size. */
static int
slurp(const char *path, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL, *p;
	size_t n = 0, cap = 0, got;
	char chunk[65536];

	if (f == NULL)
		return -1;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (n + got > cap) {
			cap = (n + got) * 2;
			if ((p = realloc(buf, cap)) == NULL)
				goto fail;
			buf = p;
		}
		memcpy(buf + n, chunk, got);
		n += got;
	}
	if (ferror(f))
		goto fail;
	fclose(f);
	/* exact size (1 byte for an empty input), so that ASan sees overreads
	 */
	if ((p = malloc(n ? n : 1)) == NULL) {
		free(buf);
		return -1;
	}
	if (n)
		memcpy(p, buf, n);
	free(buf);
	*out = p;
	*len = n;
	return 0;
fail:
	free(buf);
	fclose(f);
	return -1;
}

static int
run_one(const char *path)
{
	uint8_t *data;
	size_t len;

	if (slurp(path, &data, &len) < 0) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	current = path;
	LLVMFuzzerTestOneInput(data, len);
	free(data);
	if (__lsan_do_recoverable_leak_check != NULL &&
	    __lsan_do_recoverable_leak_check() != 0) {
		say_failed();
		_exit(1); /* not exit(): LeakSanitizer would report it again */
	}
	current = NULL;
	return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
run_dir(const char *dir)
{
	struct dirent **names;
	struct stat st;
	char *path;
	int n, i, rc = 0;

	if ((n = scandir(dir, &names, NULL, by_name)) < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (rc == 0 && names[i]->d_name[0] != '.' &&
		    asprintf(&path, "%s/%s", dir, names[i]->d_name) >= 0) {
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
				rc = run_one(path);
			free(path);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int
main(int argc, char **argv)
{
	struct sigaction sa;
	struct stat st;
	int i, rc;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 2;
	}
	if (__sanitizer_set_death_callback != NULL)
		__sanitizer_set_death_callback(say_failed);
	/* unless the sanitizer handles aborts (ASAN_OPTIONS=handle_abort=1,
	 * with a stack trace and the death callback) */
	if (sigaction(SIGABRT, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGABRT, on_abort);
	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i],
			        strerror(errno));
			return 1;
		}
		rc = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_one(argv[i]);
		if (rc < 0)
			return 1;
	}
	return 0;
}
