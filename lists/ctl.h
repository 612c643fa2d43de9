/* ctl.h - the commands of m365ctl. */
#ifndef M365CTL_H
#define M365CTL_H

#define CTL_VERSION "0.1.0"

/*
 * Each command takes its own argv (argv[0] is the command name) and returns
 * the process exit status.
 */

/* lookup: prints the verdict line, then the explanation.  0 for OK, 1 for
 * ERR, 2 for usage or load errors. */
int ctl_lookup(int argc, char **argv);

/* update: follow Microsoft's web service (see ctl_update.c). */
int ctl_update(int argc, char **argv);

/* import FILE: publish a local snapshot. */
int ctl_import(int argc, char **argv);

/* status: what Redis and the state directory hold. */
int ctl_status(int argc, char **argv);

#endif
