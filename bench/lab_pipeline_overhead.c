/* Lab `pipeline-overhead`: what one pipeline stage costs per item, against the bare queue.
 *
 * Issue 6 asks that a stage add at most 1.2x the queue's own cost per item at 0.5x load. Both
 * sides run the same open-loop arrivals (the main thread sleeps to each intended time, then
 * hands the item on) and the same service (a calibrated spin of --service-ns on one worker):
 *   queue     main thread: ct_mpmc_push (blocking) into a ct_mpmc of --capacity;
 *             one worker thread: ct_mpmc_pop, serve, count.
 *   pipeline  main thread: ct_pipeline_submit into a one-stage `block` pipeline of the same
 *             capacity and one worker; the stage serves; the sink counts.
 * The cost per item is the process's CPU time (getrusage, every thread) over the run, minus
 * the time measured inside the service spins, divided by the items: the hand-off, the waking
 * and sleeping at 0.5x load (the worker sleeps between most items), the accounting. Rounds
 * alternate the two sides so that both see the same machine; the medians are compared.
 * Every run verifies that each item arrived exactly once (count and sum of ids).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "contend/harness.h"
#include "contend/mpmc.h"
#include "contend/pipeline.h"
#include "lab.h"

#define MAX_ROUNDS 50

typedef struct ov_cfg {
    uint64_t service_ns, items, capacity;
    double load;
    unsigned rounds;
} ov_cfg;

/* Counted by the one consumer (queue side: its thread; pipeline side: the one worker, which
 * also runs the sink); read after join, so plain fields suffice. */
typedef struct ov_tally {
    uint64_t count, sum, service_ns_measured;
    uint64_t service_ns;
} ov_tally;

static uint64_t cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000u +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000u;
}

static void sleep_until(uint64_t t_ns)
{
    struct timespec ts = {(time_t)(t_ns / 1000000000u), (long)(t_ns % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static void serve(ov_tally *t, uintptr_t id)
{
    uint64_t t0 = ct_now_ns();
    ct_work_ns(t->service_ns);
    t->service_ns_measured += ct_now_ns() - t0;
    t->count++;
    t->sum += id;
}

/* ---- the bare queue ------------------------------------------------------------------- */

typedef struct q_run {
    ct_mpmc *q;
    ov_tally tally;
} q_run;

static void *q_consumer(void *arg)
{
    q_run *r = arg;
    void *item;
    while (ct_mpmc_pop(r->q, &item))
        serve(&r->tally, (uintptr_t)item);
    return NULL;
}

/* ---- the pipeline --------------------------------------------------------------------- */

static void *p_process(void *arg, void *item)
{
    serve(arg, (uintptr_t)item);
    return item;
}

/* One run: items at the open-loop rate, through `pipeline` (true) or the bare queue. Returns
 * the CPU ns per item beyond the service, or NAN with a reason in err. */
static double one_run(const ov_cfg *c, bool pipeline, char *err, size_t errlen)
{
    double interval = (double)c->service_ns / c->load;
    ov_tally tally = {0, 0, 0, c->service_ns};
    q_run qr = {NULL, tally};
    ct_pipeline *p = NULL;
    pthread_t th;
    if (pipeline) {
        ct_stage_config st = {CT_POLICY_BLOCK, (size_t)c->capacity, 1, 0, 0, p_process, &tally};
        ct_pipeline_config pc = {1, &st, NULL, NULL, NULL, NULL};
        p = ct_pipeline_create(&pc);
        if (!p) {
            snprintf(err, errlen, "pipeline: %s", strerror(errno));
            return NAN;
        }
    } else {
        qr.q = ct_mpmc_create((size_t)c->capacity);
        if (!qr.q || pthread_create(&th, NULL, q_consumer, &qr)) {
            snprintf(err, errlen, "queue: %s", strerror(errno ? errno : ENOMEM));
            ct_mpmc_destroy(qr.q);
            return NAN;
        }
    }
    uint64_t cpu0 = cpu_ns(), start = ct_now_ns() + 1000000;
    for (uint64_t i = 1; i <= c->items; i++) {
        sleep_until(start + (uint64_t)((double)(i - 1) * interval));
        bool ok = pipeline ? ct_pipeline_submit(p, (void *)(uintptr_t)i) == CT_SUBMIT_ADMITTED
                           : ct_mpmc_push(qr.q, (void *)(uintptr_t)i);
        if (!ok) {
            snprintf(err, errlen, "item %llu was not admitted", (unsigned long long)i);
            break;
        }
    }
    ov_tally *t;
    if (pipeline) {
        ct_pipeline_close(p); /* drains: every admitted item is processed */
        ct_pipeline_join(p);
        t = &tally;
    } else {
        ct_mpmc_close(qr.q); /* items inside stay poppable; the consumer drains them */
        pthread_join(th, NULL);
        t = &qr.tally;
    }
    uint64_t cpu = cpu_ns() - cpu0;
    if (p)
        ct_pipeline_destroy(p);
    if (qr.q)
        ct_mpmc_destroy(qr.q);
    uint64_t want_sum = c->items * (c->items + 1) / 2;
    if (t->count != c->items || t->sum != want_sum) {
        snprintf(err, errlen, "%s: %llu items arrived (sum %llu), %llu sent (sum %llu)",
                 pipeline ? "pipeline" : "queue", (unsigned long long)t->count,
                 (unsigned long long)t->sum, (unsigned long long)c->items,
                 (unsigned long long)want_sum);
        return NAN;
    }
    return ((double)cpu - (double)t->service_ns_measured) / (double)c->items;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- command line --------------------------------------------------------------------- */

static void help(void)
{
    fputs("usage: contend lab pipeline-overhead [options]\n"
          "  What one pipeline stage (policy block, one worker) costs per item beyond the bare\n"
          "  ct_mpmc hand-off it is built on, under the same open-loop arrivals and service:\n"
          "  process CPU per item minus the measured service time, median of alternating rounds.\n"
          "  --service-ns N   service time per item (default 100000)\n"
          "  --load L         offered load, fraction of 1/service (default 0.5; 0 < L < 1)\n"
          "  --items N        items per run (default 5000)\n"
          "  --capacity N     queue / stage bound (default 64)\n"
          "  --rounds R       rounds of (queue, pipeline) runs (default 3, at most 50)\n"
          "  Exit status: 0 every run verified, 1 a run failed, 2 bad input.\n",
          stdout);
}

static int bad(const char *flag, const char *value, const char *what)
{
    fprintf(stderr, "contend: lab pipeline-overhead: %s: '%s' is not %s\n", flag, value, what);
    return 2;
}

static int lab_main(int argc, char **argv)
{
    ov_cfg c = {100000, 5000, 64, 0.5, 3};
    for (int i = 1; i < argc; i++) {
        const char *f = argv[i];
        if (strcmp(f, "--service-ns") && strcmp(f, "--load") && strcmp(f, "--items") &&
            strcmp(f, "--capacity") && strcmp(f, "--rounds")) {
            fprintf(stderr, "contend: lab pipeline-overhead: unknown option '%s'\n", f);
            return 2;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "contend: lab pipeline-overhead: %s needs a value\n", f);
            return 2;
        }
        const char *v = argv[++i];
        char *end;
        errno = 0;
        if (!strcmp(f, "--load")) {
            double d = strtod(v, &end);
            if (errno || end == v || *end || !(d > 0 && d < 1))
                return bad(f, v, "a load between 0 and 1 (exclusive)");
            c.load = d;
            continue;
        }
        unsigned long long n = strtoull(v, &end, 10);
        if (errno || end == v || *end || v[0] == '-')
            return bad(f, v, "a whole number");
        if (!strcmp(f, "--service-ns")) {
            if (n < 1000 || n > 100000000)
                return bad(f, v, "a service time of 1000..100000000 ns");
            c.service_ns = n;
        } else if (!strcmp(f, "--items")) {
            if (n < 10 || n > 10000000)
                return bad(f, v, "an item count of 10..10000000");
            c.items = n;
        } else if (!strcmp(f, "--capacity")) {
            if (n < 2 || n > (1u << 20))
                return bad(f, v, "a capacity of 2..1048576");
            c.capacity = n;
        } else {
            if (n < 1 || n > MAX_ROUNDS)
                return bad(f, v, "a round count of 1..50");
            c.rounds = (unsigned)n;
        }
    }
    ct_work_calibrate();
    double q[MAX_ROUNDS], p[MAX_ROUNDS];
    char err[256] = "";
    printf("pipeline-overhead: %llu items at %.2fx load of a %llu ns service (%.0f items/s), "
           "capacity %llu, %u rounds\n",
           (unsigned long long)c.items, c.load, (unsigned long long)c.service_ns,
           c.load * 1e9 / (double)c.service_ns, (unsigned long long)c.capacity, c.rounds);
    printf("round  queue ns/item  pipeline ns/item  ratio\n");
    for (unsigned r = 0; r < c.rounds; r++) {
        q[r] = one_run(&c, false, err, sizeof err);
        p[r] = isnan(q[r]) ? NAN : one_run(&c, true, err, sizeof err);
        if (isnan(q[r]) || isnan(p[r])) {
            fprintf(stderr, "contend: lab pipeline-overhead: FAILED: %s\n", err);
            return 1;
        }
        printf("%5u  %13.0f  %16.0f  %5.2f\n", r + 1, q[r], p[r], p[r] / q[r]);
    }
    double mq = median(q, c.rounds), mp = median(p, c.rounds);
    printf("median %12.0f  %16.0f  %5.2f   (CPU per item beyond the service, every thread; "
           "all items verified)\n", mq, mp, mp / mq);
    return 0;
}

const ct_lab ct_lab_pipeline_overhead = {
    "pipeline-overhead", "what one pipeline stage costs per item beyond its bare mpmc queue",
    lab_main, help};
