/* Queue class "mpmc": the registry's wrapper around contend/mpmc.h (the lock-free bounded
 * queue). Only casts: the semantics are the ones contend/queue.h states for every class. */
#include "contend/mpmc.h"

#include "contend/queue.h"

CT_QUEUE_CLASS_DEFINE(ct_queue_mpmc, "mpmc",
                      "lock-free bounded ring, any number of producers and consumers",
                      0, 0, ct_mpmc, ct_mpmc);
