/* The library's mutex queue (contend/mutex_queue.h): the code is in mutex_queue_impl.h,
 * instantiated here once with the public names and no hooks, plus its registry class. */
#include "mutex_queue_impl.h"

#include "contend/queue.h"

/* ---- queue class "mutex" ------------------------------------------------------------- */

CT_QUEUE_CLASS_DEFINE(ct_queue_mutex, "mutex",
                      "one pthread mutex + two condvars, ring of exact capacity (baseline; sleeps)",
                      0, 0, ct_mutexq, ct_mutexq);
