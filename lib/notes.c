/* notes.c - a verdict's annotations as key/value pairs (m365_classify.h). */
#include "m365_classify.h"

size_t
m365_verdict_notes(const struct m365_verdict *v, const char *message,
                   struct m365_note notes[M365_NOTES_MAX])
{
	size_t n = 0;

	if (message == NULL)
		message = v->message;
	if (v->category != NULL)
		notes[n++] = (struct m365_note){"m365_category", v->category};
	if (v->result == M365_OK && v->service != NULL)
		notes[n++] = (struct m365_note){"m365_service", v->service};
	if (v->result == M365_OK && v->set != NULL)
		notes[n++] = (struct m365_note){"m365_set", v->set->id_text};
	if (message != NULL)
		notes[n++] = (struct m365_note){"message", message};
	return n;
}
