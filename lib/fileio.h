/* fileio.h - reading whole input files, bounded (internal). */
#ifndef M365_FILEIO_H
#define M365_FILEIO_H

#include <stddef.h>
#include <sys/stat.h>

#include "m365_err.h"

/*
 * Reads the regular file at path into a new NUL-terminated buffer of at most
 * max bytes and stores its length in *len.  The file is opened without
 * blocking and checked before a byte is read, so a FIFO or a device is
 * refused at once.  Returns the buffer (the caller frees it), or NULL with
 * err set to "PATH: reason" (M365_E_IO when the system fails, M365_E_INPUT
 * for a file that is not regular or too large).
 */
char *m365_read_file(const char *path, size_t max, size_t *len,
                     struct m365_err *err);

/*
 * Opens the regular file at path for reading, without blocking, and
 * stores its status in *st before a byte is read (a FIFO or a device is
 * refused at once).  Returns the descriptor (the caller closes it), or -1
 * with err set as m365_read_file() sets it.
 */
int m365_open_input(const char *path, struct stat *st, struct m365_err *err);

/* m365_read_file(), also storing the file's status in *st (may be NULL). */
char *m365_read_file_st(const char *path, size_t max, size_t *len,
                        struct stat *st, struct m365_err *err);

/*
 * Writes data[0..len) to path atomically: a temporary file beside it,
 * fsync, rename.  Returns 0, or -1 with err set to "PATH: reason"
 * (M365_E_IO; the temporary file is removed).
 */
int m365_write_file_atomic(const char *path, const char *data, size_t len,
                           struct m365_err *err);

#endif
