/* export_pac.c - placeholder until the PAC format lands. */
#include "export.h"

int
export_pac(FILE *f, const struct xm *m, const struct export_opts *o)
{
	(void)f;
	(void)m;
	(void)o;
	fprintf(stderr, "m365ctl export: pac: not yet\n");
	return -1;
}
