/* Lock class "futex": the registry's wrapper around contend/lock/futex.h. */
#include "contend/lock/futex.h"

#include "contend/lock.h"
#include "lock_classes.h"

CT_LOCK_CLASS_DEFINE(ct_lock_futex, "futex",
                     "unfair, short spin then sleeps (Drepper three-state futex mutex)",
                     ct_futex_lock_t, ct_futex_init, ct_futex_lock, ct_futex_trylock, ct_futex_unlock);
