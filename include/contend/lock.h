/* contend/lock.h: the lock family and its registry.
 *
 * Every lock is reachable two ways:
 *  - typed and inline, for users who want no indirection: include/contend/lock/<name>.h
 *    (ct_ticket_lock(), ct_mcs_lock(), ...), each with a static initializer where possible;
 *  - through the registry below, a class table per lock, which the harness and users' own
 *    benchmarks use to treat all locks alike.
 *
 * Lock algorithm and waiting policy are separate axes (as in LiTL, Guiroux et al. ATC'16):
 * the algorithm decides who goes next, contend/wait.h decides how a waiter passes the time
 * (spin with pause, spin then yield, spin then sleep on a futex).
 *
 * Registered names: pthread-mutex, pthread-spin, tas, ttas, ticket, mcs, futex, adaptive.
 */
#ifndef CONTEND_LOCK_H
#define CONTEND_LOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "contend/arch.h"

typedef struct ct_lock_class {
    const char *name;      /* e.g. "pthread-mutex" */
    const char *summary;   /* one line: fair or not, spins or sleeps */
    size_t size;           /* bytes of one lock; the caller aligns it to CT_CACHE_LINE */
    size_t node_size;      /* bytes of per-acquisition context the caller passes; 0 = none */
    int  (*init)(void *lock);               /* 0 or an errno value */
    void (*destroy)(void *lock);
    void (*lock)(void *lock, void *node);
    bool (*trylock)(void *lock, void *node);
    void (*unlock)(void *lock, void *node); /* same node as the matching lock/trylock */
} ct_lock_class;

/* Defines `const ct_lock_class sym` for a lock that needs no per-acquisition node, from its
 * typed functions: void init_fn(type *), void lock_fn(type *), bool trylock_fn(type *),
 * void unlock_fn(type *). The library's node-less locks and the Concurrency Kit peers are
 * defined this way, and a user can wrap a lock of their own the same way and hand it to the
 * harness. */
#define CT_LOCK_CLASS_DEFINE(sym, lock_name, lock_summary, type, init_fn, lock_fn, trylock_fn,  \
                             unlock_fn)                                                        \
    static int sym##_init(void *l)                                                            \
    {                                                                                         \
        init_fn((type *)l);                                                                   \
        return 0;                                                                             \
    }                                                                                         \
    static void sym##_destroy(void *l) { (void)l; }                                           \
    static void sym##_lock(void *l, void *n)                                                  \
    {                                                                                         \
        (void)n;                                                                              \
        lock_fn((type *)l);                                                                   \
    }                                                                                         \
    static bool sym##_trylock(void *l, void *n)                                               \
    {                                                                                         \
        (void)n;                                                                              \
        return trylock_fn((type *)l);                                                         \
    }                                                                                         \
    static void sym##_unlock(void *l, void *n)                                                \
    {                                                                                         \
        (void)n;                                                                              \
        unlock_fn((type *)l);                                                                 \
    }                                                                                         \
    const ct_lock_class sym = {lock_name,      lock_summary,   sizeof(type), 0,               \
                               sym##_init,     sym##_destroy,  sym##_lock,   sym##_trylock,   \
                               sym##_unlock}

size_t ct_lock_class_count(void);
const ct_lock_class *ct_lock_class_get(size_t i);          /* NULL when i >= count */
const ct_lock_class *ct_lock_class_find(const char *name); /* NULL when unknown */

#endif
