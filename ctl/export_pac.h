/* export_pac.h - the PAC format's parts (internal to export_pac*.c). */
#ifndef M365CTL_EXPORT_PAC_H
#define M365CTL_EXPORT_PAC_H

/* The code of every PAC file, after its tables (export_pac_js.c). */
extern const char export_pac_code[];

#endif
