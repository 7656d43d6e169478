/* Linearizability checker for bounded FIFO histories: Wing & Gong's depth-first search with
 * Lowe's just-in-time linearization and memoization (linearize.h for the sources and the
 * specification).
 *
 * Data structures.
 *   events   2n entries, one call and one return per operation, sorted by time (calls before
 *            returns at equal times: ties overlap), threaded on a doubly linked list. Lifting
 *            an operation (it has been linearized) unlinks both its entries; backtracking
 *            relinks them. Lifts and unlifts are strictly LIFO, so each entry's own prev/next
 *            pointers are enough to put it back.
 *   state    the specification state: the items in FIFO order (a ring of at most C, fewer
 *            when there are fewer pushes than C), size and closed.
 *   stack    one frame per linearized operation: its call entry and the state before it.
 *   memo     an open-addressing hash set of configurations (linearized bitset, state);
 *            states are stored canonically (oldest item first, unused slots zero) so equal
 *            configurations compare equal word by word.
 * The walk (Lowe 2017, section 3; the same as Porcupine's):
 *   entry = first event
 *   while events remain:
 *     call entry of op:   if op is legal in state and (linearized + op, new state) is a new
 *                         configuration: push a frame, apply, lift op, restart from the first
 *                         event; otherwise try the next entry.
 *     return entry of op: op was not linearized before its response: undo the last frame
 *                         (unlift, restore state) and try the entry after its call entry;
 *                         with no frame to undo, the history is not linearizable.
 */
#include "linearize.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct event {
    struct event *prev, *next;
    struct event *match; /* call -> its return; NULL for a return */
    size_t op;
    uint64_t time;
    bool is_call;
} event;

typedef struct frame {
    event *call;
    size_t state_at; /* offset of the saved state in the saved-state arena */
} frame;

/* State layout in words: [0] size, [1] closed, [2 .. 2 + slots) items, oldest first. */
typedef struct checker {
    const ct_lin_op *ops;
    size_t n, capacity, slots, state_words, bit_words, key_words;
    uint64_t *state;     /* current state (state_words) */
    uint64_t *scratch;   /* candidate next state */
    uint64_t *saved;     /* n saved states, one per frame */
    uint64_t *bits;      /* linearized set */
    frame *stack;
    size_t depth;
    /* memo */
    uint64_t *keys;      /* configs x key_words */
    size_t configs, keys_cap;
    uint32_t *table;     /* indices + 1 into keys; 0 = empty */
    size_t table_cap;    /* a power of two */
} checker;

const char *ct_lin_kind_name(ct_lin_kind kind)
{
    switch (kind) {
    case CT_LIN_PUSH: return "push";
    case CT_LIN_TRY_PUSH: return "try_push";
    case CT_LIN_POP: return "pop";
    case CT_LIN_TRY_POP: return "try_pop";
    case CT_LIN_CLOSE: return "close";
    }
    return "?";
}

const char *ct_lin_result_name(ct_lin_result result)
{
    switch (result) {
    case CT_LIN_OK: return "ok";
    case CT_LIN_FULL: return "full";
    case CT_LIN_EMPTY: return "empty";
    case CT_LIN_CLOSED: return "closed";
    }
    return "?";
}

static bool result_possible(const ct_lin_op *op)
{
    switch (op->kind) {
    case CT_LIN_PUSH:
    case CT_LIN_POP:
        return op->result == CT_LIN_OK || op->result == CT_LIN_CLOSED;
    case CT_LIN_TRY_PUSH:
        return op->result == CT_LIN_OK || op->result == CT_LIN_FULL || op->result == CT_LIN_CLOSED;
    case CT_LIN_TRY_POP:
        return op->result == CT_LIN_OK || op->result == CT_LIN_EMPTY ||
               op->result == CT_LIN_CLOSED;
    case CT_LIN_CLOSE:
        return op->result == CT_LIN_OK;
    }
    return false;
}

/* The sequential specification: is op legal in `from`? If so, writes the state after it to
 * `to` (canonical form). */
static bool apply(const checker *c, const uint64_t *from, uint64_t *to, const ct_lin_op *op)
{
    uint64_t size = from[0], closed = from[1];
    memcpy(to, from, c->state_words * sizeof *to);
    switch (op->kind) {
    case CT_LIN_PUSH:
    case CT_LIN_TRY_PUSH:
        if (op->result == CT_LIN_OK) {
            if (closed || size >= c->capacity)
                return false;
            if (size >= c->slots) /* more items than pushes in the history: impossible */
                return false;
            to[2 + size] = op->value;
            to[0] = size + 1;
            return true;
        }
        if (op->result == CT_LIN_FULL) /* try_push: full or closed */
            return closed || size == c->capacity;
        return closed != 0; /* CLOSED */
    case CT_LIN_POP:
    case CT_LIN_TRY_POP:
        if (op->result == CT_LIN_OK) {
            if (size == 0 || from[2] != op->value)
                return false;
            memmove(to + 2, from + 3, (size - 1) * sizeof *to);
            to[2 + size - 1] = 0;
            to[0] = size - 1;
            return true;
        }
        if (op->result == CT_LIN_EMPTY)
            return size == 0;
        return closed && size == 0; /* CLOSED */
    case CT_LIN_CLOSE:
        to[1] = 1;
        return true;
    }
    return false;
}

static uint64_t hash_words(const uint64_t *w, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) {
        h ^= w[i] + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
        h *= 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
    }
    return h;
}

static int memo_grow(checker *c)
{
    size_t cap = c->table_cap * 2;
    uint32_t *t = calloc(cap, sizeof *t);
    if (!t)
        return -1;
    for (size_t i = 0; i < c->table_cap; i++) {
        uint32_t v = c->table[i];
        if (!v)
            continue;
        size_t j = hash_words(c->keys + (size_t)(v - 1) * c->key_words, c->key_words) & (cap - 1);
        while (t[j])
            j = (j + 1) & (cap - 1);
        t[j] = v;
    }
    free(c->table);
    c->table = t;
    c->table_cap = cap;
    return 0;
}

/* Inserts the configuration (bits, scratch): 1 when new, 0 when seen before, -1 on error. */
static int memo_insert(checker *c)
{
    uint64_t *key = c->keys + c->configs * c->key_words;
    if (c->configs == c->keys_cap) {
        if (c->configs >= CT_LIN_MAX_CONFIGS) {
            errno = E2BIG;
            return -1;
        }
        size_t cap = c->keys_cap * 2;
        uint64_t *k = realloc(c->keys, cap * c->key_words * sizeof *k);
        if (!k)
            return -1;
        c->keys = k;
        c->keys_cap = cap;
        key = c->keys + c->configs * c->key_words;
    }
    memcpy(key, c->bits, c->bit_words * sizeof *key);
    memcpy(key + c->bit_words, c->scratch, c->state_words * sizeof *key);
    size_t mask = c->table_cap - 1;
    size_t j = hash_words(key, c->key_words) & mask;
    while (c->table[j]) {
        const uint64_t *other = c->keys + (size_t)(c->table[j] - 1) * c->key_words;
        if (memcmp(other, key, c->key_words * sizeof *key) == 0)
            return 0;
        j = (j + 1) & mask;
    }
    c->table[j] = (uint32_t)(c->configs + 1);
    c->configs++;
    if (c->configs * 2 > c->table_cap && memo_grow(c) != 0)
        return -1;
    return 1;
}

static void lift(event *call)
{
    call->prev->next = call->next;
    if (call->next)
        call->next->prev = call->prev;
    event *ret = call->match;
    ret->prev->next = ret->next;
    if (ret->next)
        ret->next->prev = ret->prev;
}

static void unlift(event *call)
{
    event *ret = call->match;
    ret->prev->next = ret;
    if (ret->next)
        ret->next->prev = ret;
    call->prev->next = call;
    if (call->next)
        call->next->prev = call;
}

static int cmp_events(const void *a, const void *b)
{
    const event *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    if (x->is_call != y->is_call)
        return x->is_call ? -1 : 1; /* calls first: equal times overlap */
    return x->op < y->op ? -1 : x->op > y->op ? 1 : 0;
}

static int search(checker *c, event *head, size_t *order)
{
    event *entry = head->next;
    while (head->next) {
        if (entry->is_call) {
            const ct_lin_op *op = &c->ops[entry->op];
            bool legal = apply(c, c->state, c->scratch, op);
            if (legal) {
                c->bits[entry->op / 64] |= (uint64_t)1 << (entry->op % 64);
                int fresh = memo_insert(c);
                if (fresh < 0)
                    return -1;
                if (fresh) {
                    frame *f = &c->stack[c->depth];
                    f->call = entry;
                    f->state_at = c->depth * c->state_words;
                    memcpy(c->saved + f->state_at, c->state, c->state_words * sizeof *c->state);
                    c->depth++;
                    memcpy(c->state, c->scratch, c->state_words * sizeof *c->state);
                    lift(entry);
                    entry = head->next;
                    continue;
                }
                c->bits[entry->op / 64] &= ~((uint64_t)1 << (entry->op % 64));
            }
            entry = entry->next;
        } else {
            if (c->depth == 0)
                return 0;
            frame *f = &c->stack[--c->depth];
            memcpy(c->state, c->saved + f->state_at, c->state_words * sizeof *c->state);
            c->bits[f->call->op / 64] &= ~((uint64_t)1 << (f->call->op % 64));
            unlift(f->call);
            entry = f->call->next;
        }
    }
    if (order)
        for (size_t i = 0; i < c->depth; i++)
            order[i] = c->stack[i].call->op;
    return 1;
}

int ct_lin_check_fifo(const ct_lin_op *ops, size_t n, size_t capacity, size_t *order)
{
    if (capacity == 0 || (n > 0 && ops == NULL) || n > UINT32_MAX / 4) {
        errno = EINVAL;
        return -1;
    }
    size_t pushes = 0;
    for (size_t i = 0; i < n; i++) {
        if (ops[i].response < ops[i].invoke || !result_possible(&ops[i])) {
            errno = EINVAL;
            return -1;
        }
        if ((ops[i].kind == CT_LIN_PUSH || ops[i].kind == CT_LIN_TRY_PUSH) &&
            ops[i].result == CT_LIN_OK)
            pushes++;
    }
    if (n == 0)
        return 1;

    checker c;
    memset(&c, 0, sizeof c);
    c.ops = ops;
    c.n = n;
    c.capacity = capacity;
    /* The queue can never hold more items than were pushed: store only that many slots. */
    c.slots = pushes < capacity ? pushes : capacity;
    c.state_words = 2 + c.slots;
    c.bit_words = (n + 63) / 64;
    c.key_words = c.bit_words + c.state_words;
    c.keys_cap = 256;
    c.table_cap = 512;

    int rc = -1;
    event *events = calloc(2 * n + 1, sizeof *events);
    c.state = calloc(c.state_words, sizeof *c.state);
    c.scratch = calloc(c.state_words, sizeof *c.scratch);
    c.saved = calloc(n * c.state_words, sizeof *c.saved);
    c.bits = calloc(c.bit_words, sizeof *c.bits);
    c.stack = calloc(n, sizeof *c.stack);
    c.keys = malloc(c.keys_cap * c.key_words * sizeof *c.keys);
    c.table = calloc(c.table_cap, sizeof *c.table);
    if (!events || !c.state || !c.scratch || !c.saved || !c.bits || !c.stack || !c.keys ||
        !c.table) {
        errno = ENOMEM;
        goto out;
    }

    /* events[0] is the list head; sort the 2n real entries, then link calls to returns. */
    event *ev = events + 1;
    for (size_t i = 0; i < n; i++) {
        ev[2 * i] = (event){.op = i, .time = ops[i].invoke, .is_call = true};
        ev[2 * i + 1] = (event){.op = i, .time = ops[i].response, .is_call = false};
    }
    qsort(ev, 2 * n, sizeof *ev, cmp_events);
    event **ret_of = calloc(n, sizeof *ret_of);
    if (!ret_of) {
        errno = ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < 2 * n; i++)
        if (!ev[i].is_call)
            ret_of[ev[i].op] = &ev[i];
    for (size_t i = 0; i < 2 * n; i++)
        if (ev[i].is_call)
            ev[i].match = ret_of[ev[i].op];
    free(ret_of);
    for (size_t i = 0; i <= 2 * n; i++) {
        events[i].prev = i ? &events[i - 1] : NULL;
        events[i].next = i < 2 * n ? &events[i + 1] : NULL;
    }

    /* The initial configuration (nothing linearized, empty open queue) counts as seen. */
    memcpy(c.scratch, c.state, c.state_words * sizeof *c.state);
    if (memo_insert(&c) < 0)
        goto out;
    rc = search(&c, &events[0], order);
out:
    if (rc < 0 && errno != E2BIG && errno != EINVAL)
        errno = ENOMEM;
    free(events);
    free(c.state);
    free(c.scratch);
    free(c.saved);
    free(c.bits);
    free(c.stack);
    free(c.keys);
    free(c.table);
    return rc;
}

static int cmp_invoke(const void *a, const void *b)
{
    const ct_lin_op *x = *(const ct_lin_op *const *)a, *y = *(const ct_lin_op *const *)b;
    return x->invoke < y->invoke ? -1 : x->invoke > y->invoke ? 1 : 0;
}

void ct_lin_print(FILE *f, const ct_lin_op *ops, size_t n)
{
    const ct_lin_op **sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted) {
        fprintf(f, "  (history of %zu operations: no memory to sort it)\n", n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = &ops[i];
    qsort(sorted, n, sizeof *sorted, cmp_invoke);
    for (size_t i = 0; i < n; i++) {
        const ct_lin_op *op = sorted[i];
        fprintf(f, "  [%6llu, %6llu] thread %u  %-8s", (unsigned long long)op->invoke,
                (unsigned long long)op->response, op->thread, ct_lin_kind_name(op->kind));
        if (op->kind == CT_LIN_PUSH || op->kind == CT_LIN_TRY_PUSH)
            fprintf(f, "(%llu) -> %s\n", (unsigned long long)op->value,
                    ct_lin_result_name(op->result));
        else if ((op->kind == CT_LIN_POP || op->kind == CT_LIN_TRY_POP) &&
                 op->result == CT_LIN_OK)
            fprintf(f, "() -> %llu\n", (unsigned long long)op->value);
        else
            fprintf(f, "() -> %s\n", ct_lin_result_name(op->result));
    }
    free(sorted);
}
