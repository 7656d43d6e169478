/* Lock class "tas": the registry's wrapper around contend/lock/tas.h. */
#include "contend/lock/tas.h"

#include "contend/lock.h"
#include "lock_classes.h"

CT_LOCK_CLASS_DEFINE(ct_lock_tas, "tas",
                     "unfair, spins (exchange loop, no backoff)",
                     ct_tas_lock_t, ct_tas_init, ct_tas_lock, ct_tas_trylock, ct_tas_unlock);
