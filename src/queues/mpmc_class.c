/* Queue class "mpmc": the registry's wrapper around contend/mpmc.h (the lock-free bounded
 * queue). Only casts: the semantics are the ones contend/queue.h states for every class. */
#include "contend/mpmc.h"

#include "contend/queue.h"

static void *mpmc_create(size_t capacity) { return ct_mpmc_create(capacity); }
static void mpmc_destroy(void *q) { ct_mpmc_destroy((ct_mpmc *)q); }
static bool mpmc_try_push(void *q, void *item) { return ct_mpmc_try_push((ct_mpmc *)q, item); }
static bool mpmc_try_pop(void *q, void **item) { return ct_mpmc_try_pop((ct_mpmc *)q, item); }
static bool mpmc_push(void *q, void *item) { return ct_mpmc_push((ct_mpmc *)q, item); }
static bool mpmc_pop(void *q, void **item) { return ct_mpmc_pop((ct_mpmc *)q, item); }
static void mpmc_close(void *q) { ct_mpmc_close((ct_mpmc *)q); }

extern const ct_queue_class ct_queue_mpmc; /* listed in queue_list.h */
const ct_queue_class ct_queue_mpmc = {
    .name = "mpmc",
    .summary = "lock-free bounded ring, any number of producers and consumers",
    .max_producers = 0,
    .max_consumers = 0,
    .create = mpmc_create,
    .destroy = mpmc_destroy,
    .try_push = mpmc_try_push,
    .try_pop = mpmc_try_pop,
    .push = mpmc_push,
    .pop = mpmc_pop,
    .close = mpmc_close,
};
