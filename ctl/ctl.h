/* ctl.h - the commands of m365ctl. */
#ifndef M365CTL_H
#define M365CTL_H

#include "m365_err.h"
#include "m365_options.h"

#define CTL_VERSION "0.2.0"

/*
 * Each command takes its own argv (argv[0] is the command name) and returns
 * the process exit status.
 */

/* lookup: prints the verdict line, then the explanation.  0 for OK, 1 for
 * ERR, 2 for usage or load errors. */
int ctl_lookup(int argc, char **argv);

/* export FORMAT: the list in use as a PAC file, nftables sets, plain or
 * JSON lists (see export.h).  0 written, 1 a rule the format cannot
 * express, 2 usage or input, 4 Redis or file trouble. */
int ctl_export(int argc, char **argv);

/* pin VERSION, unpin, rollback: keep a kept version current whatever
 * Microsoft publishes next (see ctl_pin.c).  0 done, 1 refused, 2 usage,
 * 3 locked, 4 Redis. */
int ctl_pin(int argc, char **argv);
int ctl_unpin(int argc, char **argv);
int ctl_rollback(int argc, char **argv);

/* update: follow Microsoft's web service (see ctl_update.c). */
int ctl_update(int argc, char **argv);

/* changes [VERSION]: the change report of a publish (see changes.h).
 * 0 printed, 1 none for that version, 2 usage, 4 Redis or file trouble. */
int ctl_changes(int argc, char **argv);

/* import FILE: publish a local snapshot. */
int ctl_import(int argc, char **argv);

/* status: a health check of this host's processes, Redis, the farm and
 * the last update; 0 healthy, 1 needs attention, 2 usage. */
int ctl_status(int argc, char **argv);

/* metrics: the host's counters in Prometheus's text format, printed or
 * served (--listen).  0; 1 when the counters cannot be read (the rest is
 * printed); 2 usage; 4 when it cannot listen or write. */
int ctl_metrics(int argc, char **argv);

/* m365ctl's names for the options the library reports on ("--list"). */
extern const struct m365_option_names ctl_option_names;

/*
 * The exit status of update and import for an error: 1 when the input was
 * refused (M365_E_REFUSED, M365_E_INPUT), 4 for network, Redis, file
 * system or memory trouble.
 */
int ctl_exit_status(const struct m365_err *err);

/*
 * Parses s as a factor of at least 1 written "DIGITS" or "DIGITS.DIGITS"
 * ("2", "1.5"; at most 9 digits either side).  Returns 0 and sets *out,
 * or -1 ("", ".5", "1.", "1e3", "inf", "0.5").
 */
int ctl_parse_factor(const char *s, double *out);

/* A monotonic clock in milliseconds, for deadlines. */
long long ctl_now_ms(void);

#endif
