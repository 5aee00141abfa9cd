/*
 * transport_pool.c - several requests of the transport at once, over one
 * curl multi handle: each with the retry policy of transport.c, a retry
 * waiting its backoff while the others run.
 */
#include "config.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "transport.h"

/* An array element (arrays of bare pointers read as mistakes). */
struct slot {
	struct tx *tx;
};

struct tx_pool {
	CURLM *multi;
	struct slot *waiting;		/* retries not yet due */
	size_t nwaiting, awaiting;
	struct slot *done;		/* finished, not yet handed back */
	size_t ndone, adone;
	struct slot *running;		/* transfers in the multi handle */
	size_t nrunning, arunning;
};

struct tx_pool *tx_pool_new(void)
{
	struct tx_pool *pool = gantry_xcalloc(1, sizeof(*pool));

	/* curl_global_init runs in tx_i_prepare, before any transfer. */
	pool->multi = curl_multi_init();
	if (!pool->multi)
		abort();
	return pool;
}

static void finished(struct tx_pool *pool, struct tx *tx)
{
	GANTRY_GROW(pool->done, pool->ndone + 1, pool->adone);
	pool->done[pool->ndone++].tx = tx;
}

/* Starts tx's next attempt; a request that cannot start is done. */
static void start(struct tx_pool *pool, struct tx *tx)
{
	CURL *h;

	if (gantry_i_interrupted) {
		tx_attempt(tx);		/* records the interrupt */
		finished(pool, tx);
		return;
	}
	h = tx_i_prepare(tx);
	if (!h) {
		finished(pool, tx);
		return;
	}
	if (curl_multi_add_handle(pool->multi, h) != CURLM_OK)
		abort();
	GANTRY_GROW(pool->running, pool->nrunning + 1, pool->arunning);
	pool->running[pool->nrunning++].tx = tx;
}

void tx_pool_add(struct tx_pool *pool, struct tx *tx)
{
	start(pool, tx);
}

size_t tx_pool_pending(const struct tx_pool *pool)
{
	return pool->nrunning + pool->nwaiting + pool->ndone;
}

/* An attempt ended: done, or a retry to wait for. */
static void ended(struct tx_pool *pool, struct tx *tx, CURLcode cc)
{
	size_t i;
	long ms;

	curl_multi_remove_handle(pool->multi, tx->easy);
	for (i = 0; i < pool->nrunning; i++)
		if (pool->running[i].tx == tx) {
			pool->running[i] = pool->running[--pool->nrunning];
			break;
		}
	tx_i_finish(tx, cc);
	ms = tx_retry_ms(tx);
	if (ms < 0) {
		finished(pool, tx);
		return;
	}
	gantry_debug(tx->ctx, "%s %s: %s; retrying in %ld ms (attempt %u of "
		     "%u)", tx->method, tx->url, tx->fail ? tx->error :
		     "transient status", ms, tx->attempt + 1, tx->attempts);
	tx->wake = gantry_now() + ms / 1000.0;
	GANTRY_GROW(pool->waiting, pool->nwaiting + 1, pool->awaiting);
	pool->waiting[pool->nwaiting++].tx = tx;
}

/* Starts the retries that are due; the milliseconds until the next one
   (or `cap`). */
static long wake_due(struct tx_pool *pool, long cap)
{
	double now = gantry_now();
	size_t i = 0;

	while (i < pool->nwaiting) {
		struct tx *tx = pool->waiting[i].tx;
		long ms = (long)((tx->wake - now) * 1000);

		if (ms > 0 && !gantry_i_interrupted) {
			if (ms < cap)
				cap = ms;
			i++;
			continue;
		}
		pool->waiting[i] = pool->waiting[--pool->nwaiting];
		start(pool, tx);
	}
	return cap;
}

static struct tx *hand_back(struct tx_pool *pool, int *rc)
{
	struct tx *tx = pool->done[0].tx;

	memmove(pool->done, pool->done + 1,
		--pool->ndone * sizeof(*pool->done));
	*rc = tx->fail == TX_ANSWERED ? 0 : -1;
	return tx;
}

struct tx *tx_pool_next(struct tx_pool *pool, long wait_ms, int *rc)
{
	double until = gantry_now() + (wait_ms > 0 ? wait_ms : 0) / 1000.0;
	int looked = 0;

	*rc = 0;
	for (;;) {
		CURLMsg *msg;
		int still, left;
		long ms, slice;

		curl_multi_perform(pool->multi, &still);
		while ((msg = curl_multi_info_read(pool->multi, &left))) {
			char *priv = NULL;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
					  &priv);
			ended(pool, (struct tx *)(void *)priv,
			      msg->data.result);
		}
		if (pool->ndone)
			return hand_back(pool, rc);
		if (!pool->nrunning && !pool->nwaiting)
			return NULL;
		ms = (long)((until - gantry_now()) * 1000);
		if (ms <= 0 && looked)
			return NULL;
		looked = 1;
		/* Short slices: an interrupt or a due retry is noticed. */
		slice = wake_due(pool, ms < 0 ? 0 : ms < 100 ? ms : 100);
		if (pool->nrunning && slice > 0)
			curl_multi_poll(pool->multi, NULL, 0, (int)slice, NULL);
		else if (slice > 0)
			tx_nap(slice);
	}
}

void tx_pool_free(struct tx_pool *pool)
{
	size_t i;

	if (!pool)
		return;
	for (i = 0; i < pool->nrunning; i++)
		curl_multi_remove_handle(pool->multi,
					 pool->running[i].tx->easy);
	curl_multi_cleanup(pool->multi);
	free(pool->running);
	free(pool->waiting);
	free(pool->done);
	free(pool);
}
