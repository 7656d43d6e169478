/* Lock class "ttas": the registry's wrapper around contend/lock/ttas.h. */
#include "contend/lock/ttas.h"

#include "contend/lock.h"
#include "lock_classes.h"

CT_LOCK_CLASS_DEFINE(ct_lock_ttas, "ttas",
                     "unfair, spins (test-and-test-and-set, bounded exponential backoff)",
                     ct_ttas_lock_t, ct_ttas_init, ct_ttas_lock, ct_ttas_trylock, ct_ttas_unlock);
