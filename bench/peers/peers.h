/* Peer implementations: other libraries' primitives behind our class tables, so they run in
 * the same invocation as ours and every comparison is a ratio taken side by side.
 * Each peer file is compiled only when CMake finds its package; the list below is the only
 * place a peer is registered. Peers know nothing of each other. */
#ifndef CONTEND_PEERS_H
#define CONTEND_PEERS_H

#include <stddef.h>

#include "contend/lock.h"
#include "contend/queue.h"
#include "contend/stack.h"

size_t ct_peer_lock_class_count(void);
const ct_lock_class *ct_peer_lock_class_get(size_t i);          /* NULL when i >= count */
const ct_lock_class *ct_peer_lock_class_find(const char *name); /* NULL when unknown */

/* Peer queues (bench/peers/peer_queue_list.h): ck-ring, moodycamel, moodycamel-tok,
 * moodycamel-blocking, boost-lockfree, tbb-bounded, as far as their libraries were found. */
size_t ct_peer_queue_class_count(void);
const ct_queue_class *ct_peer_queue_class_get(size_t i);          /* NULL when i >= count */
const ct_queue_class *ct_peer_queue_class_find(const char *name); /* NULL when unknown */
/* Peer stacks (bench/peers/peer_stack_list.h), for the `stack` workload. */
size_t ct_peer_stack_class_count(void);
const ct_stack_class *ct_peer_stack_class_get(size_t i);          /* NULL when i >= count */
const ct_stack_class *ct_peer_stack_class_find(const char *name); /* NULL when unknown */

#endif
