/* notify.c - running the --notify command (see notify.h). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "changes.h"
#include "ctl.h"
#include "notify.h"

/* The child: its stdin from fd, the environment, then the shell. */
static void
child(int fd, const char *cmd, const struct notice *n)
{
	if (dup2(fd, STDIN_FILENO) < 0)
		_exit(127);
	close(fd);
	setenv("M365_EVENT", n->event, 1);
	setenv("M365_VERSION", n->version ? n->version : "", 1);
	setenv("M365_PREVIOUS", n->previous ? n->previous : "", 1);
	setenv("M365_REASON", n->reason ? n->reason : "", 1);
	execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
	_exit(127);
}

/* The text the command reads, into a temporary file (unlinked). */
static FILE *
message(const struct notice *n)
{
	FILE *f = tmpfile();

	if (f == NULL)
		return NULL;
	if (n->reason && n->reason[0])
		fprintf(f, "%s\n", n->reason);
	if (n->report) {
		if (n->reason && n->reason[0])
			fprintf(f, "\nwhat it would have changed:\n");
		changes_print(f, n->report, false);
	}
	if (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	return f;
}

/* Waits for pid up to the timeout, then kills it; its wait status, or -1
 * when it was killed for time. */
static int
reap(pid_t pid)
{
	long long until = ctl_now_ms() + NOTIFY_TIMEOUT_S * 1000LL;
	struct timespec nap = {0, 50 * 1000 * 1000};
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR)
			return 0;
		if (ctl_now_ms() >= until)
			break;
		nanosleep(&nap, NULL);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return -1;
}

void
notify_run(const char *cmd, const struct notice *n)
{
	FILE *in;
	pid_t pid;
	int st;

	if (cmd == NULL || cmd[0] == '\0')
		return;
	if ((in = message(n)) == NULL) {
		fprintf(stderr, "m365ctl update: warning: --notify: %s\n",
		        strerror(errno));
		return;
	}
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) < 0) {
		fprintf(stderr, "m365ctl update: warning: --notify: fork: %s\n",
		        strerror(errno));
		fclose(in);
		return;
	}
	if (pid == 0)
		child(fileno(in), cmd, n);
	fclose(in);
	st = reap(pid);
	if (st < 0)
		fprintf(stderr,
		        "m365ctl update: warning: --notify: killed after %d "
		        "seconds\n",
		        NOTIFY_TIMEOUT_S);
	else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		fprintf(stderr,
		        "m365ctl update: warning: --notify: the command "
		        "exited %d\n",
		        WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		fprintf(stderr,
		        "m365ctl update: warning: --notify: the command was "
		        "killed by signal %d\n",
		        WTERMSIG(st));
}
