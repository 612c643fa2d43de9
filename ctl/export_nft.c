/* export_nft.c - placeholder until the nftables format lands. */
#include "export.h"

int
export_nft(FILE *f, const struct xm *m, const struct export_opts *o)
{
	(void)f;
	(void)m;
	(void)o;
	fprintf(stderr, "m365ctl export: nft: not yet\n");
	return -1;
}
