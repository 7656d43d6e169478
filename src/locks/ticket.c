/* Lock class "ticket": the registry's wrapper around contend/lock/ticket.h. */
#include "contend/lock/ticket.h"

#include "contend/lock.h"
#include "lock_classes.h"

CT_LOCK_CLASS_DEFINE(ct_lock_ticket, "ticket",
                     "fair (FIFO), spins (ticket counters; collapses past the cores)",
                     ct_ticket_lock_t, ct_ticket_init, ct_ticket_lock, ct_ticket_trylock,
                     ct_ticket_unlock);
