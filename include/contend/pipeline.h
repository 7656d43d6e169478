/* contend/pipeline.h: a staged pipeline (source -> stage 1 -> ... -> stage N -> sink) whose
 * stage inputs have admission policies: the remedies against overload, for users' pipelines.
 *
 * Shape. The caller is the source: it calls ct_pipeline_submit() from any number of threads.
 * Each stage has its own input queue and its own worker threads; a worker pops an item, runs
 * the stage's process function on it and offers the result to the next stage's input (from
 * the last stage: calls the sink, on the worker's thread). Every item ends exactly once: in
 * the sink, or in on_drop with the reason it was dropped (below).
 *
 * Admission policies (ct_policy), one per stage input:
 *   unbounded    a FIFO that grows without limit (capacity must be 0). The policy that
 *                collapses under overload: memory grows linearly, latency without bound.
 *   block        bounded FIFO; a full input makes the offering thread wait. A stage's workers
 *                then stop popping their own input, which fills, which blocks the stage
 *                before it: pressure propagates stage by stage back to the source, whose
 *                submit waits. Queue: the bounded MPMC ring (contend/mpmc.h), push/pop.
 *   drop-newest  bounded FIFO; an item offered to a full input is rejected (on_drop with
 *                CT_DROP_REJECTED) and never waits. Queue: contend/mpmc.h, try_push/pop.
 *   drop-oldest  bounded FIFO; an item offered to a full input evicts the oldest item inside
 *                (on_drop with CT_DROP_EVICTED) and takes its place: the freshest work wins.
 *   codel        CoDel (K. Nichols, V. Jacobson, "Controlling Queue Delay", ACM Queue 2012;
 *                RFC 8289, 2018): every item is stamped at enqueue; at dequeue, when the
 *                sojourn time of the items popped has stayed above `target` for at least
 *                `interval`, the queue enters the dropping state and drops the head
 *                (CT_DROP_CODEL) at times given by the control law
 *                drop_next = t + interval / sqrt(count), count growing by one per drop, until
 *                a sojourn falls below target. Re-entering the dropping state soon after
 *                leaving it (within 16 intervals) resumes from the previous drop rate (RFC
 *                8289 section 5.5). An item is never dropped when it was the last one in the
 *                queue (the RFC's "bytes <= maxpacket" rule, counted in items). capacity is a
 *                hard limit (like Linux's codel `limit`): offered to a full input, an item is
 *                rejected (CT_DROP_REJECTED). CoDel alone cannot shed an unresponsive open-loop
 *                overload quickly (its drop rate grows as sqrt(count)/interval); the limit
 *                bounds memory meanwhile. One pop drops at most CT_CODEL_MAX_DROPS_PER_POP
 *                items (bounded work per call): past that it returns the head it holds and
 *                the next pop resumes the schedule (drop_next is then already due).
 * Bounded capacities are rounded up to a power of two (the ring's cells; at least 2), for every
 * bounded policy alike; ct_pipeline_stats() reports the real bound.
 * drop-oldest, codel and unbounded use a mutex-protected chunked FIFO (src/backpressure/
 * pipeline.c): eviction from the producer side and timestamps read at dequeue do not fit the
 * MPMC ring, whose cells belong to one side at a time. The lock is held O(1) per operation
 * (a CoDel pop: at most CT_CODEL_MAX_DROPS_PER_POP + 1 items), never across user callbacks.
 *
 * Items are opaque (void *, NULL allowed); the pipeline never dereferences them.
 *
 * Shutdown. ct_pipeline_close(): submit fails from now on (CT_SUBMIT_CLOSED); stage 1 drains
 * its input, and when its last worker exits it closes stage 2's input, and so on: every item
 * admitted before close reaches the sink or a policy drop. ct_pipeline_cancel(): stop now:
 * every input is closed, workers stop processing, items still queued (or being offered to a
 * closed input) go to on_drop with CT_DROP_CANCELLED. ct_pipeline_destroy() closes (drains)
 * unless cancel was called, joins every worker and frees. Callbacks may run until destroy
 * returns; they must not call ct_pipeline_close/cancel/destroy on their own pipeline.
 *
 * Counters, per stage, readable while running (ct_pipeline_stats): each field is a relaxed
 * atomic, individually monotonic (depth excepted); a snapshot is not a consistent cut across
 * fields while items move. After destroy's join (or once the pipeline is quiescent), exactly:
 *   offered  = admitted + rejected + refused
 *   admitted = completed + evicted + codel_dropped + cancelled + depth
 *   offered(stage i+1) = completed(stage i)        (the sink takes the last stage's output)
 * where dropped = rejected + evicted + codel_dropped counts the policy drops, cancelled the
 * items popped (or left) after cancel and refused the items a worker offered to an input that
 * cancel had closed: both reach on_drop as CT_DROP_CANCELLED. A submit that returns
 * CT_SUBMIT_CLOSED is counted nowhere (the caller keeps the item). Every item submitted and
 * not returned CLOSED reaches the sink or on_drop exactly once (the stress test's invariant).
 *
 * Synchronization (X: the caller must serialize; -: safe concurrently):
 *                  submit  stats  close  cancel  join  destroy
 *   submit           -       -      -      -      -     X
 *   stats            -       -      -      -      -     X
 *   close/cancel     -       -      -      -      -     X
 *   join             -       -      -      -      X     X
 *   destroy          X       X      X      X      X     X
 * (join while another thread submits: that submit may wait until join's close wakes it.)
 */
#ifndef CONTEND_PIPELINE_H
#define CONTEND_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ct_policy {
    CT_POLICY_UNBOUNDED = 0,
    CT_POLICY_BLOCK,
    CT_POLICY_DROP_NEWEST,
    CT_POLICY_DROP_OLDEST,
    CT_POLICY_CODEL,
} ct_policy;

#define CT_POLICY_COUNT 5

/* "unbounded", "block", "drop-newest", "drop-oldest", "codel"; NULL for an unknown value. */
const char *ct_policy_name(ct_policy p);
/* 0, or -1 with errno EINVAL for an unknown name (or NULL). */
int ct_policy_parse(const char *name, ct_policy *out);

typedef enum ct_drop_reason {
    CT_DROP_REJECTED = 0, /* offered to a full drop-newest / codel input */
    CT_DROP_EVICTED,      /* the oldest item of a full drop-oldest input */
    CT_DROP_CODEL,        /* dropped at dequeue by CoDel's control law */
    CT_DROP_CANCELLED,    /* still queued (or being offered) when the pipeline was cancelled */
} ct_drop_reason;

/* CoDel defaults (RFC 8289 section 4.2/4.3, the values Linux uses too). */
#define CT_CODEL_TARGET_NS 5000000ull     /* 5 ms */
#define CT_CODEL_INTERVAL_NS 100000000ull /* 100 ms */
#define CT_CODEL_MAX_DROPS_PER_POP 64u

/* The largest bounded capacity and the most workers per stage / stages accepted. */
#define CT_PIPELINE_MAX_CAPACITY ((size_t)1 << 30)
#define CT_PIPELINE_MAX_WORKERS 1024u
#define CT_PIPELINE_MAX_STAGES 64u

typedef struct ct_stage_config {
    ct_policy policy;
    size_t capacity;  /* bounded policies: >= 1 (rounded up to a power of two); unbounded: 0 */
    unsigned workers; /* >= 1 */
    /* CoDel only (0: the defaults above). target must be below interval. Must be 0 for
     * other policies. */
    uint64_t codel_target_ns, codel_interval_ns;
    /* Runs on a worker thread for each item popped; returns the item to pass on (the same
     * pointer or another one). NULL function: the item passes unchanged. */
    void *(*process)(void *arg, void *item);
    void *arg;
} ct_stage_config;

typedef struct ct_pipeline_config {
    unsigned nstages; /* 1..CT_PIPELINE_MAX_STAGES */
    const ct_stage_config *stages;
    /* Called on a last-stage worker thread with each item that made it through (may be NULL). */
    void (*sink)(void *arg, void *item);
    void *sink_arg;
    /* Called once for every dropped item, on the thread that dropped it (a worker, or the
     * submitting thread), never with a pipeline lock held (may be NULL). stage: 0-based
     * index of the stage whose input dropped it. */
    void (*on_drop)(void *arg, void *item, unsigned stage, ct_drop_reason reason);
    void *drop_arg;
} ct_pipeline_config;

typedef struct ct_pipeline ct_pipeline;

/* Validates cfg, builds every stage and starts the workers. NULL with errno: EINVAL for a bad
 * configuration (nstages 0 or too many, stages NULL, unknown policy, 0 workers or too many, a
 * bounded policy with capacity 0 or above CT_PIPELINE_MAX_CAPACITY, unbounded with a capacity,
 * CoDel parameters on another policy or target >= interval), ENOMEM, or EAGAIN when a worker
 * thread could not be started (those already started are stopped and joined first). */
ct_pipeline *ct_pipeline_create(const ct_pipeline_config *cfg);

/* Why cfg would be rejected, as one line ("stage 2: capacity 0 for policy block"), or NULL
 * when it is valid. Returns a static string or writes into buf (len bytes). */
const char *ct_pipeline_config_error(const ct_pipeline_config *cfg, char *buf, size_t len);

typedef enum ct_submit_result {
    CT_SUBMIT_ADMITTED = 0, /* the item is in stage 1's input */
    CT_SUBMIT_DROPPED,      /* dropped by stage 1's policy: on_drop has been called with it */
    CT_SUBMIT_CLOSED,       /* closed or cancelled: the item was NOT taken (caller keeps it) */
} ct_submit_result;

/* Offers item to stage 1 under its policy: block waits while the input is full (until room
 * or close/cancel); the others never wait for room. */
ct_submit_result ct_pipeline_submit(ct_pipeline *p, void *item);

typedef struct ct_stage_stats {
    ct_policy policy;
    size_t capacity;     /* the real bound (0: unbounded) */
    unsigned workers;
    uint64_t offered;    /* items offered to this stage's input */
    uint64_t admitted;   /* items that entered it */
    uint64_t dropped;    /* rejected + evicted + codel */
    uint64_t rejected, evicted, codel_dropped;
    uint64_t cancelled;  /* popped or left in the input after cancel (CT_DROP_CANCELLED) */
    uint64_t refused;    /* offered by a worker to an input closed by cancel (CT_DROP_CANCELLED) */
    uint64_t completed;  /* items processed by this stage's workers */
    uint64_t depth;      /* items in the input now */
} ct_stage_stats;

/* 0, or -1 with errno EINVAL when stage >= the number of stages (or p/out NULL). */
int ct_pipeline_stats(const ct_pipeline *p, unsigned stage, ct_stage_stats *out);
unsigned ct_pipeline_stage_count(const ct_pipeline *p);

void ct_pipeline_close(ct_pipeline *p);   /* idempotent; drain (above) */
void ct_pipeline_cancel(ct_pipeline *p);  /* idempotent; stop now (above) */
/* Close (unless cancelled) and wait for every worker to exit: afterwards the counters are
 * final and exact (the invariants above hold with depth 0) and no callback runs any more.
 * Idempotent; submit returns CT_SUBMIT_CLOSED afterwards. NULL: no-op. */
void ct_pipeline_join(ct_pipeline *p);
/* Join, then free. NULL: no-op. */
void ct_pipeline_destroy(ct_pipeline *p);

#endif
