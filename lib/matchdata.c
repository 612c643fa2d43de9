/* matchdata.c - per-thread PCRE2 match data (see matchdata.h). */
#include <pthread.h>

#include "matchdata.h"

static pthread_key_t key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int key_ok;
/* the calling thread's block, at hand (the key frees it at thread exit) */
static __thread pcre2_match_data *mine;

static void
free_match_data(void *md)
{
	pcre2_match_data_free(md);
}

static void
make_key(void)
{
	key_ok = pthread_key_create(&key, free_match_data) == 0;
}

pcre2_match_data *
matchdata_get(void)
{
	pcre2_match_data *md;

	if (mine != NULL)
		return mine;
	pthread_once(&once, make_key);
	if (!key_ok)
		return NULL;
	if ((md = pthread_getspecific(key)) != NULL)
		return mine = md;
	if ((md = pcre2_match_data_create(1, NULL)) == NULL)
		return NULL;
	if (pthread_setspecific(key, md) != 0) {
		pcre2_match_data_free(md);
		return NULL;
	}
	return mine = md;
}

static pcre2_match_context *mctx;
static pthread_once_t mctx_once = PTHREAD_ONCE_INIT;

static void
make_mctx(void)
{
	if ((mctx = pcre2_match_context_create(NULL)) == NULL)
		return;
	pcre2_set_match_limit(mctx, MATCH_LIMIT);
	pcre2_set_depth_limit(mctx, MATCH_DEPTH_LIMIT);
}

pcre2_match_context *
matchctx_get(void)
{
	pthread_once(&mctx_once, make_mctx);
	return mctx;
}

/*
 * At exit, or when a front end that loaded the library as a module unloads
 * it: free the calling thread's block and delete the key, so that no thread
 * that exits later calls a destructor in unloaded code.
 */
__attribute__((destructor)) static void
drop_key(void)
{
	if (!key_ok)
		return;
	pcre2_match_data_free(pthread_getspecific(key));
	pthread_setspecific(key, NULL);
	mine = NULL;
	pthread_key_delete(key);
	key_ok = 0;
	pcre2_match_context_free(mctx);
	mctx = NULL;
}
