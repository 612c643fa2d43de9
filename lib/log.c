/* log.c - log levels (see m365_log.h). */
#include "m365_log.h"

const char *
m365_log_level_name(enum m365_log_level level)
{
	switch (level) {
	case M365_LOG_ERROR: return "ERROR";
	case M365_LOG_WARNING: return "WARNING";
	case M365_LOG_INFO: return "INFO";
	}
	return "INFO";
}
