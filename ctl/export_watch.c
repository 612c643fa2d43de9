/*
 * export_watch.c - m365ctl export --watch: the export kept up to date
 * with Redis's current version and the local list (see export.h).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "export.h"
#include "m365_redis.h"
#include "m365_store.h"

static volatile sig_atomic_t stop, again;

/* How long after a failed export it is tried again, with no change. */
#define RETRY_S 30

static void
on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static void
on_hup(int sig)
{
	(void)sig;
	again = 1;
}

/* A log line on stderr, with the time. */
__attribute__((format(printf, 1, 2))) static void
say(const char *fmt, ...)
{
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	fprintf(stderr, "%s m365ctl export: ", when);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* What a change is looked for in: Redis's pointer, the local file. */
struct seen {
	char version[M365_VERSION_MAX + 1];
	struct stat local;
	int local_ok;
	int redis_up; /* -1 unknown */
};

/* Redis's current version into v ("" when it holds none); 0, or -1 when
 * Redis cannot be asked (said once per outage). */
static int
current(const struct m365_redis_url *u, const char *prefix, struct seen *s,
        char *v)
{
	struct m365_err err;
	redisContext *c = m365_redis_connect(u, 2000, &err);
	int rc = -1;

	if (c != NULL) {
		rc = m365_store_current(c, prefix, v, &err);
		redisFree(c);
	}
	if (rc < 0) {
		if (s->redis_up != 0)
			say("Redis unreachable (%s); the files stay as they "
			    "are",
			    err.msg);
		s->redis_up = 0;
		return -1;
	}
	if (s->redis_up == 0)
		say("Redis is back");
	s->redis_up = 1;
	if (rc == 0)
		v[0] = '\0';
	return 0;
}

/* True when the local list file is not what it was (mtime, size,
 * inode); records what it is now. */
static int
local_changed(const char *path, struct seen *s)
{
	struct stat st;
	int ok, changed;

	if (path == NULL)
		return 0;
	ok = stat(path, &st) == 0;
	changed = ok != s->local_ok ||
	          (ok && (st.st_mtim.tv_sec != s->local.st_mtim.tv_sec ||
	                  st.st_mtim.tv_nsec != s->local.st_mtim.tv_nsec ||
	                  st.st_size != s->local.st_size ||
	                  st.st_ino != s->local.st_ino));
	s->local_ok = ok;
	if (ok)
		s->local = st;
	return changed;
}

/* Runs the --exec command through sh -c; its exit status, or -1. */
static int
run_command(const char *cmd)
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* One export and its command: 0 when both went well, -1 when the
 * command failed, -2 when the export did. */
static int
once(struct export_job *j, const char *why)
{
	int rc;

	if (export_run(j) != 0) {
		say("%s: the export failed; the files stay as they are, and "
		    "it is tried again in %d s",
		    why, RETRY_S);
		return -2;
	}
	say("%s: wrote %s", why, j->out);
	if (j->exec == NULL)
		return 0;
	if ((rc = run_command(j->exec)) != 0) {
		say("the command failed (exit %d); it runs again with the "
		    "next change: %s",
		    rc, j->exec);
		return -1;
	}
	return 0;
}

int
export_watch(struct export_job *j)
{
	struct m365_redis_url u;
	struct seen s;
	char v[M365_VERSION_MAX + 1], why[128];
	struct sigaction sa;
	time_t retry_at = time(NULL) + RETRY_S;
	int rc, failed;

	memset(&s, 0, sizeof(s));
	s.redis_up = -1;
	if ((rc = ctl_redis_url("export", &j->src.ro, &u)) != 0)
		return rc;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	local_changed(j->src.opt.local, &s);
	if (current(&u, j->src.prefix, &s, v) == 0)
		snprintf(s.version, sizeof(s.version), "%s", v);
	failed = once(j, "start") == -2;
	while (!stop) {
		sleep((unsigned)j->poll_s); /* a signal ends it early */
		if (stop)
			break;
		why[0] = '\0';
		if (current(&u, j->src.prefix, &s, v) == 0 &&
		    strcmp(v, s.version) != 0)
			snprintf(why, sizeof(why), "version %s",
			         v[0] ? v : "(none)");
		if (local_changed(j->src.opt.local, &s))
			snprintf(why, sizeof(why), "local list changed");
		if (again) {
			again = 0;
			snprintf(why, sizeof(why), "SIGHUP");
		}
		if (why[0] == '\0' && failed && time(NULL) >= retry_at)
			snprintf(why, sizeof(why), "retry");
		if (why[0] == '\0')
			continue;
		/* a failed export is tried again at the next change only
		 * when Redis answered: the version is recorded either way */
		if (s.redis_up == 1)
			snprintf(s.version, sizeof(s.version), "%s", v);
		failed = once(j, why) == -2;
		retry_at = time(NULL) + RETRY_S;
	}
	say("stopped");
	return 0;
}
