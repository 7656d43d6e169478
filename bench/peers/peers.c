#include "peers.h"

#include <string.h>

#define CT_PEER_LOCK(sym) extern const ct_lock_class sym;
#include "peer_list.h"
#undef CT_PEER_LOCK

static const ct_lock_class *const peer_locks[] = {
#define CT_PEER_LOCK(sym) &sym,
#include "peer_list.h"
#undef CT_PEER_LOCK
    NULL, /* keeps the array non-empty when no peer was found */
};

size_t ct_peer_lock_class_count(void) { return sizeof peer_locks / sizeof peer_locks[0] - 1; }

const ct_lock_class *ct_peer_lock_class_get(size_t i)
{
    return i < ct_peer_lock_class_count() ? peer_locks[i] : NULL;
}

const ct_lock_class *ct_peer_lock_class_find(const char *name)
{
    for (size_t i = 0; i < ct_peer_lock_class_count(); i++)
        if (strcmp(peer_locks[i]->name, name) == 0)
            return peer_locks[i];
    return NULL;
}

#define CT_PEER_QUEUE(sym) extern const ct_queue_class sym;
#include "peer_queue_list.h"
#undef CT_PEER_QUEUE

static const ct_queue_class *const peer_queues[] = {
#define CT_PEER_QUEUE(sym) &sym,
#include "peer_queue_list.h"
#undef CT_PEER_QUEUE
    NULL, /* keeps the array non-empty when no peer was found */
};

size_t ct_peer_queue_class_count(void) { return sizeof peer_queues / sizeof peer_queues[0] - 1; }

const ct_queue_class *ct_peer_queue_class_get(size_t i)
{
    return i < ct_peer_queue_class_count() ? peer_queues[i] : NULL;
}

const ct_queue_class *ct_peer_queue_class_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < ct_peer_queue_class_count(); i++)
        if (strcmp(peer_queues[i]->name, name) == 0)
            return peer_queues[i];
    return NULL;
}
