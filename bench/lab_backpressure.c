/* `contend lab backpressure`: what removing queue bounds does to a pipeline under overload, and
 * what each admission policy does instead (engine contract: bench/lab_backpressure.h; the
 * pipeline: include/contend/pipeline.h; the findings: notes/backpressure.md).
 *
 * Choices for a small machine (2 cores): one worker per stage (more would only time-share the
 * cores); the source sleeps until each intended arrival (clock_nanosleep, absolute, timer slack
 * 1 ns) and, when late, submits every overdue item at once with its intended stamp; the
 * service time is spun (ct_work_ns, calibrated CPU work), not slept, so a stage's capacity is
 * real CPU capacity; the capacity that the load sweep is scaled by is MEASURED first with the
 * same pipeline shape on this machine (closed loop, policy block), so "2x" means twice what
 * the pipeline can do here, with the source, the monitor and everything else sharing the cores.
 */
#include <errno.h>
#include <malloc.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "contend/harness.h"
#include "contend/histogram.h"
#include "contend/pipeline.h"
#include "lab.h"
#include "lab_backpressure.h"

/* ---- small helpers ------------------------------------------------------------------------ */

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform01(uint64_t *s) /* in (0, 1] */
{
    return ((double)(splitmix64(s) >> 11) + 1.0) / 9007199254740992.0;
}

static uint64_t draw_service(ct_bp_dist d, uint64_t mean, uint64_t *rng)
{
    switch (d) {
    case CT_BP_EXPONENTIAL:
        return (uint64_t)(-log(uniform01(rng)) * (double)mean + 0.5);
    case CT_BP_BIMODAL: {
        /* 90% fast, 10% ten times slower, mean preserved: fast = mean / 1.9. */
        double fast = (double)mean / 1.9;
        return (uint64_t)((uniform01(rng) <= 0.9 ? fast : 10.0 * fast) + 0.5);
    }
    default:
        return mean;
    }
}

static void sleep_until(uint64_t t_ns)
{
    struct timespec ts = {.tv_sec = (time_t)(t_ns / 1000000000u),
                          .tv_nsec = (long)(t_ns % 1000000000u)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

uint64_t ct_bp_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    unsigned long long size = 0, res = 0;
    int n = fscanf(f, "%llu %llu", &size, &res);
    fclose(f);
    return n == 2 ? res * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

uint64_t ct_bp_default_max_rss(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    uint64_t gib = (uint64_t)1 << 30;
    if (pages <= 0 || psz <= 0)
        return gib;
    uint64_t quarter = (uint64_t)pages * (uint64_t)psz / 4;
    return quarter < gib ? quarter : gib;
}

void ct_bp_config_defaults(ct_bp_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->policy = CT_POLICY_BLOCK;
    cfg->stages = 1;
    cfg->capacity = 64;
    cfg->service_ns = 100000;
    cfg->service = CT_BP_CONSTANT;
    cfg->arrival = CT_BP_ARRIVE_POISSON;
    cfg->deadline_ns = 3 * cfg->stages * cfg->capacity * cfg->service_ns;
    cfg->duration_s = 2.0;
    cfg->seed = 1;
    cfg->payload_bytes = 1024;
    cfg->window_ns = 100000000;
}

/* ---- one run -------------------------------------------------------------------------------- */

typedef struct item {
    uint64_t seq, intended_ns, admitted_ns;
    uint32_t service_ns[CT_BP_MAX_STAGES];
    unsigned char payload[];
} item;

typedef struct run {
    const ct_bp_config *cfg;
    ct_pipeline *p;
    uint64_t t0, t_end;
    bool saturate;
    /* Source -> everyone. */
    _Atomic bool stop;          /* set by the source's end, the guard, or an error */
    _Atomic uint64_t next_intended; /* the source's schedule position (lag) */
    _Atomic int64_t in_system;  /* admitted (incremented before submit) minus departed */
    _Atomic uint64_t generated, admitted;
    /* Sink and drop side. */
    _Atomic uint64_t completed, good, dropped, cancelled, ended_dup;
    _Atomic uint64_t *ended;    /* bitmap over seq */
    uint64_t max_items;
    pthread_mutex_t mu;         /* the histograms and W sums below */
    ct_hist *h_total, *h_window, *h_insys;
    double w_sum_s;             /* time in system of items departed while measuring */
    uint64_t w_count;
    double tail_sum_s;          /* items departed after the stop: time in system up to it */
    uint64_t t_stop;
    _Atomic bool measuring;     /* departures count toward W while true */
    /* Offered arrivals by intended time, per window (source-owned; read after join). */
    uint64_t *offered_by_window;
    size_t nwindows_max;
    /* Monitor results. */
    ct_bp_window *series;
    size_t nseries;
    double L_sum;
    uint64_t L_samples;
    uint64_t rss_peak;
    bool guard_tripped;
    uint64_t guard_at_ns;
    bool oom;
    uint64_t never_submitted; /* source-owned; read after join */
} run;

static void *stage_process(void *arg, void *it)
{
    unsigned stage = (unsigned)(uintptr_t)arg;
    ct_work_ns(((item *)it)->service_ns[stage]);
    return it;
}

static void mark_ended(run *r, const item *it)
{
    if (it->seq < r->max_items) {
        uint64_t bit = (uint64_t)1 << (it->seq % 64);
        /* Relaxed RMW: the bitmap is read after every thread is joined. */
        if (atomic_fetch_or_explicit(&r->ended[it->seq / 64], bit, memory_order_relaxed) & bit)
            atomic_fetch_add_explicit(&r->ended_dup, 1, memory_order_relaxed);
    }
}

static void depart(run *r, const item *it, uint64_t now)
{
    atomic_fetch_sub_explicit(&r->in_system, 1, memory_order_relaxed);
    pthread_mutex_lock(&r->mu);
    /* measuring is cleared under mu after t_stop is set (run_once), so either branch sees a
     * consistent pair. */
    if (atomic_load_explicit(&r->measuring, memory_order_relaxed)) {
        r->w_sum_s += (double)(now - it->admitted_ns) / 1e9;
        r->w_count++;
    } else if (r->t_stop > it->admitted_ns) {
        r->tail_sum_s += (double)(r->t_stop - it->admitted_ns) / 1e9;
    }
    pthread_mutex_unlock(&r->mu);
}

static void sink(void *arg, void *v)
{
    run *r = arg;
    item *it = v;
    uint64_t now = ct_now_ns();
    uint64_t lat = now > it->intended_ns ? now - it->intended_ns : 0;
    pthread_mutex_lock(&r->mu);
    ct_hist_record(r->h_total, lat);
    ct_hist_record(r->h_window, lat);
    ct_hist_record(r->h_insys, now - it->admitted_ns);
    pthread_mutex_unlock(&r->mu);
    depart(r, it, now);
    atomic_fetch_add_explicit(&r->completed, 1, memory_order_relaxed);
    if (lat <= r->cfg->deadline_ns)
        atomic_fetch_add_explicit(&r->good, 1, memory_order_relaxed);
    mark_ended(r, it);
    free(it);
}

static void on_drop(void *arg, void *v, unsigned stage, ct_drop_reason why)
{
    run *r = arg;
    item *it = v;
    if (why == CT_DROP_CANCELLED) {
        atomic_fetch_add_explicit(&r->cancelled, 1, memory_order_relaxed);
        depart(r, it, ct_now_ns()); /* after the stop: counted up to t_stop */
    } else {
        atomic_fetch_add_explicit(&r->dropped, 1, memory_order_relaxed);
        if (stage == 0 && why == CT_DROP_REJECTED)
            atomic_fetch_sub_explicit(&r->in_system, 1, memory_order_relaxed); /* never in */
        else
            depart(r, it, ct_now_ns());
    }
    mark_ended(r, it);
    free(it);
}

static void *source_main(void *arg)
{
    run *r = arg;
    const ct_bp_config *c = r->cfg;
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL); /* sleep to the microsecond, not 50 us */
    uint64_t arr_rng = c->seed * 0x9E3779B97F4A7C15ull + 1;
    uint64_t svc_rng = c->seed ^ 0xD1B54A32D192ED03ull;
    double period_ns = r->saturate ? 0 : 1e9 / c->rate;
    uint64_t k = 0;
    double next = (double)r->t0;
    if (!r->saturate && c->arrival == CT_BP_ARRIVE_POISSON)
        next += -log(uniform01(&arr_rng)) * period_ns;
    size_t item_size = sizeof(item) + c->payload_bytes;
    while (!atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        uint64_t now = ct_now_ns();
        if (now >= r->t_end)
            break;
        uint64_t intended = r->saturate ? now : (uint64_t)next;
        if (intended >= r->t_end)
            break;
        atomic_store_explicit(&r->next_intended, intended, memory_order_relaxed);
        if (intended > now + 2000) {
            sleep_until(intended < r->t_end ? intended : r->t_end);
            continue;
        }
        if (k >= r->max_items)
            break; /* cannot happen at the sizes chosen (2x the expected count); stop safely */
        item *it = malloc(item_size);
        if (!it) {
            r->oom = true;
            break;
        }
        it->seq = k;
        it->intended_ns = intended;
        for (unsigned s = 0; s < CT_BP_MAX_STAGES; s++)
            it->service_ns[s] =
                s < c->stages ? (uint32_t)draw_service(c->service, c->service_ns, &svc_rng) : 0;
        memset(it->payload, (int)(k & 0xff), c->payload_bytes); /* resident, like a request */
        if (!r->saturate) {
            size_t w = (size_t)((intended - r->t0) / c->window_ns);
            if (w < r->nwindows_max)
                r->offered_by_window[w]++;
        }
        atomic_fetch_add_explicit(&r->generated, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&r->in_system, 1, memory_order_relaxed);
        it->admitted_ns = ct_now_ns();
        ct_submit_result sr = ct_pipeline_submit(r->p, it);
        if (sr == CT_SUBMIT_ADMITTED) {
            atomic_fetch_add_explicit(&r->admitted, 1, memory_order_relaxed);
        } else if (sr == CT_SUBMIT_CLOSED) {
            /* Only if the pipeline were closed under us: account it as cancelled. */
            atomic_fetch_sub_explicit(&r->in_system, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&r->cancelled, 1, memory_order_relaxed);
            mark_ended(r, it);
            free(it);
            break;
        }
        k++;
        if (c->arrival == CT_BP_ARRIVE_POISSON)
            next += -log(uniform01(&arr_rng)) * period_ns;
        else
            next = (double)r->t0 + (double)k * period_ns;
    }
    /* Arrivals the schedule still owed when the run ended (a blocked source falls behind):
     * never submitted, but offered all the same, in the windows they were due. */
    if (!r->saturate && !atomic_load_explicit(&r->stop, memory_order_relaxed)) {
        while (next < (double)r->t_end) {
            size_t w = (size_t)(((uint64_t)next - r->t0) / c->window_ns);
            if (w < r->nwindows_max)
                r->offered_by_window[w]++;
            r->never_submitted++;
            k++;
            if (c->arrival == CT_BP_ARRIVE_POISSON)
                next += -log(uniform01(&arr_rng)) * period_ns;
            else
                next = (double)r->t0 + (double)k * period_ns;
        }
    }
    atomic_store_explicit(&r->stop, true, memory_order_relaxed);
    return NULL;
}

static void close_window(run *r, uint64_t now, uint64_t *last_completed, uint64_t *last_good,
                         uint64_t *last_dropped, uint64_t *last_t, uint64_t rss)
{
    if (r->nseries >= r->nwindows_max)
        return;
    ct_bp_window *w = &r->series[r->nseries++];
    memset(w, 0, sizeof *w);
    double dt = (double)(now - *last_t) / 1e9;
    uint64_t comp = atomic_load_explicit(&r->completed, memory_order_relaxed);
    uint64_t good = atomic_load_explicit(&r->good, memory_order_relaxed);
    uint64_t drop = atomic_load_explicit(&r->dropped, memory_order_relaxed);
    w->t_s = (double)(now - r->t0) / 1e9;
    w->completed_per_s = dt > 0 ? (double)(comp - *last_completed) / dt : 0;
    w->goodput_per_s = dt > 0 ? (double)(good - *last_good) / dt : 0;
    w->drops = drop - *last_dropped;
    for (unsigned s = 0; s < r->cfg->stages; s++) {
        ct_stage_stats st;
        if (ct_pipeline_stats(r->p, s, &st) == 0)
            w->depth[s] = st.depth;
    }
    w->rss = rss;
    int64_t insys = atomic_load_explicit(&r->in_system, memory_order_relaxed);
    w->in_system = insys > 0 ? (uint64_t)insys : 0;
    pthread_mutex_lock(&r->mu);
    w->p50_ns = ct_hist_percentile(r->h_window, 50);
    w->p99_ns = ct_hist_percentile(r->h_window, 99);
    w->max_ns = ct_hist_max(r->h_window);
    ct_hist_reset(r->h_window);
    pthread_mutex_unlock(&r->mu);
    uint64_t next = atomic_load_explicit(&r->next_intended, memory_order_relaxed);
    /* After the source has left (end of run) its schedule position no longer moves. */
    bool source_left = atomic_load_explicit(&r->stop, memory_order_relaxed);
    w->source_lag_ns = (!r->saturate && !source_left && now > next) ? now - next : 0;
    *last_completed = comp;
    *last_good = good;
    *last_dropped = drop;
    *last_t = now;
}

#define MONITOR_SPIN_NS 20000u

static void *monitor_main(void *arg)
{
    run *r = arg;
    /* Timer slack 1 ns: with the default 50 us the kernel may defer our wakeup to coincide
     * with another timer's, the source's in particular, and then the samples of N land just
     * after arrivals: a biased L (seen in smoke runs: +20-30% at load 0.5). */
    prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    uint64_t rng = r->cfg->seed ^ 0x5851F42D4C957F2Dull;
    uint64_t last_completed = 0, last_good = 0, last_dropped = 0, last_t = r->t0;
    uint64_t next_window = r->t0 + r->cfg->window_ns;
    uint64_t tick = r->t0 + MONITOR_SPIN_NS, rss = ct_bp_rss_bytes();
    unsigned n = 0;
    for (;;) {
        /* Randomized ticks (0.9..1.1 ms): sampling at a fixed period could lock onto the
         * phase of constant arrivals and bias L. */
        tick += 900000 + splitmix64(&rng) % 200001;
        /* Wake a little early and spin to the tick: timer expiries are delivered in batches
         * (more so in a VM), so a sleep that ends exactly at the tick tends to end together
         * with the source's sleep, right after an arrival: N sampled then is biased upwards
         * (seen in smoke runs: +0.14 items at load 0.5). The spin costs ~2% of one core. */
        sleep_until(tick - MONITOR_SPIN_NS);
        uint64_t now;
        while ((now = ct_now_ns()) < tick)
            ct_cpu_relax();
        /* Woken late (the cores were busy): do not catch up with a burst of samples taken at
         * one instant, which would over-weight exactly the congested moments. */
        if (now > tick + 1000000)
            tick = now;
        bool stopping = atomic_load_explicit(&r->stop, memory_order_relaxed);
        int64_t ns = atomic_load_explicit(&r->in_system, memory_order_relaxed);
        r->L_sum += (double)(ns > 0 ? ns : 0);
        r->L_samples++;
        if (++n % 10 == 0 || stopping) {
            rss = ct_bp_rss_bytes();
            if (rss > r->rss_peak)
                r->rss_peak = rss;
            if (r->cfg->max_rss && rss > r->cfg->max_rss && !r->guard_tripped) {
                r->guard_tripped = true;
                r->guard_at_ns = now;
                atomic_store_explicit(&r->stop, true, memory_order_relaxed);
                stopping = true;
            }
        }
        if (now >= next_window || stopping) {
            close_window(r, now, &last_completed, &last_good, &last_dropped, &last_t, rss);
            while (next_window <= now)
                next_window += r->cfg->window_ns;
        }
        if (stopping)
            return NULL;
    }
}

void ct_bp_result_free(ct_bp_result *r)
{
    if (r) {
        free(r->series);
        r->series = NULL;
        r->nseries = 0;
    }
}

static int run_once(const ct_bp_config *cfg, bool saturate, ct_bp_result *out, char *err,
                    size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->cfg = *cfg;
    if (cfg->stages == 0 || cfg->stages > CT_BP_MAX_STAGES || cfg->duration_s <= 0 ||
        cfg->window_ns == 0 || (!saturate && !(cfg->rate > 0))) {
        snprintf(err, errlen, "bad lab configuration (stages %u, duration %g s, rate %g)",
                 cfg->stages, cfg->duration_s, cfg->rate);
        return -1;
    }
    ct_work_calibrate();
    run *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    r->cfg = cfg;
    r->saturate = saturate;
    double svc = (double)(cfg->service_ns ? cfg->service_ns : 1);
    double expect = saturate ? cfg->duration_s * 4e9 / svc : cfg->rate * cfg->duration_s;
    r->max_items = (uint64_t)(2.0 * expect + 4096);
    r->nwindows_max = (size_t)(cfg->duration_s * 1e9 / (double)cfg->window_ns) + 4;
    r->ended = calloc(r->max_items / 64 + 1, sizeof *r->ended);
    r->offered_by_window = calloc(r->nwindows_max, sizeof *r->offered_by_window);
    r->series = calloc(r->nwindows_max, sizeof *r->series);
    r->h_total = ct_hist_create();
    r->h_window = ct_hist_create();
    r->h_insys = ct_hist_create();
    pthread_mutex_init(&r->mu, NULL);
    int rc = -1;
    if (!r->ended || !r->offered_by_window || !r->series || !r->h_total || !r->h_window ||
        !r->h_insys) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    ct_stage_config sc[CT_BP_MAX_STAGES];
    memset(sc, 0, sizeof sc);
    for (unsigned s = 0; s < cfg->stages; s++) {
        sc[s].policy = cfg->policy;
        sc[s].capacity = cfg->policy == CT_POLICY_UNBOUNDED ? 0 : cfg->capacity;
        sc[s].workers = 1;
        sc[s].process = stage_process;
        sc[s].arg = (void *)(uintptr_t)s;
        if (cfg->policy == CT_POLICY_CODEL) {
            sc[s].codel_target_ns = cfg->codel_target_ns;
            sc[s].codel_interval_ns = cfg->codel_interval_ns;
        }
    }
    ct_pipeline_config pc = {.nstages = cfg->stages, .stages = sc, .sink = sink,
                             .sink_arg = r, .on_drop = on_drop, .drop_arg = r};
    char why[160];
    const char *bad = ct_pipeline_config_error(&pc, why, sizeof why);
    if (bad) {
        snprintf(err, errlen, "%s", bad);
        goto out;
    }
    out->rss_start = ct_bp_rss_bytes();
    r->rss_peak = out->rss_start;
    r->p = ct_pipeline_create(&pc);
    if (!r->p) {
        snprintf(err, errlen, "pipeline: %s", strerror(errno));
        goto out;
    }
    r->t0 = ct_now_ns() + 1000000; /* 1 ms for the threads to start */
    r->t_end = r->t0 + (uint64_t)(cfg->duration_s * 1e9);
    atomic_store(&r->next_intended, r->t0);
    atomic_store(&r->measuring, true);
    pthread_t src, mon;
    if (pthread_create(&mon, NULL, monitor_main, r) != 0) {
        snprintf(err, errlen, "cannot start the monitor thread");
        ct_pipeline_cancel(r->p);
        ct_pipeline_destroy(r->p);
        goto out;
    }
    if (pthread_create(&src, NULL, source_main, r) != 0) {
        atomic_store(&r->stop, true);
        pthread_join(mon, NULL);
        snprintf(err, errlen, "cannot start the source thread");
        ct_pipeline_cancel(r->p);
        ct_pipeline_destroy(r->p);
        goto out;
    }
    pthread_join(src, NULL);
    pthread_join(mon, NULL);
    pthread_mutex_lock(&r->mu);
    uint64_t t_stop = r->t_stop = ct_now_ns();
    atomic_store(&r->measuring, false);
    double w_sum = r->w_sum_s;
    uint64_t w_count = r->w_count;
    pthread_mutex_unlock(&r->mu);
    int64_t left = atomic_load(&r->in_system);
    out->in_system_at_stop = left > 0 ? (uint64_t)left : 0;
    out->elapsed_s = (double)(t_stop - r->t0) / 1e9;
    uint64_t admitted_at_stop = atomic_load(&r->admitted);
    ct_pipeline_cancel(r->p);
    ct_pipeline_join(r->p);

    /* Verification: every generated item ended exactly once; the pipeline agrees. */
    uint64_t gen = atomic_load(&r->generated);
    uint64_t comp = atomic_load(&r->completed), drop = atomic_load(&r->dropped);
    uint64_t canc = atomic_load(&r->cancelled);
    out->verified = true;
    uint64_t missing = 0;
    for (uint64_t s = 0; s < gen && s < r->max_items; s++)
        if (!(atomic_load_explicit(&r->ended[s / 64], memory_order_relaxed) &
              ((uint64_t)1 << (s % 64))))
            missing++;
    uint64_t p_drop = 0, p_canc = 0, p_last = 0;
    for (unsigned s = 0; s < cfg->stages; s++) {
        ct_stage_stats st;
        ct_pipeline_stats(r->p, s, &st);
        p_drop += st.dropped;
        p_canc += st.cancelled + st.refused;
        if (s + 1 == cfg->stages)
            p_last = st.completed;
    }
    if (r->ended_dup || missing || comp + drop + canc != gen || p_drop != drop ||
        p_last != comp || p_canc != canc || atomic_load(&r->in_system) != 0) {
        out->verified = false;
        snprintf(out->verify_msg, sizeof out->verify_msg,
                 "generated %llu: %llu missing, %llu twice; completed %llu + dropped %llu + "
                 "cancelled %llu (pipeline: last stage %llu, dropped %llu, cancelled %llu)",
                 (unsigned long long)gen, (unsigned long long)missing,
                 (unsigned long long)r->ended_dup, (unsigned long long)comp,
                 (unsigned long long)drop, (unsigned long long)canc, (unsigned long long)p_last,
                 (unsigned long long)p_drop, (unsigned long long)p_canc);
    }
    if (r->oom) {
        out->verified = false;
        snprintf(out->verify_msg, sizeof out->verify_msg, "the source ran out of memory");
    }
    ct_pipeline_destroy(r->p);
    malloc_trim(0); /* give freed items back, so the next run's RSS starts from here */

    out->generated = gen;
    out->admitted = atomic_load(&r->admitted);
    out->completed = comp;
    out->good = atomic_load(&r->good);
    out->dropped = drop;
    out->cancelled_at_end = canc;
    out->never_submitted = r->never_submitted;
    double el = out->elapsed_s > 0 ? out->elapsed_s : 1e-9;
    uint64_t offered_total = 0;
    for (size_t w = 0; w < r->nseries; w++) {
        offered_total += w < r->nwindows_max ? r->offered_by_window[w] : 0;
        double wdt = r->series[w].t_s - (w ? r->series[w - 1].t_s : 0);
        r->series[w].offered_per_s = wdt > 0 ? (double)r->offered_by_window[w] / wdt : 0;
        for (unsigned s = 0; s < cfg->stages; s++)
            if (r->series[w].depth[s] > out->max_depth)
                out->max_depth = r->series[w].depth[s];
    }
    (void)offered_total;
    out->offered_per_s = (double)gen / el;
    if (!saturate) {
        /* The schedule, not what the source managed to generate: a blocked source falls
         * behind, and the arrivals it owes still count as offered. */
        out->offered_per_s = cfg->rate;
    }
    out->completed_per_s = (double)comp / el;
    out->goodput_per_s = (double)out->good / el;
    out->drop_fraction = gen ? (double)drop / (double)gen : 0;
    out->p50_ns = ct_hist_percentile(r->h_total, 50);
    out->p99_ns = ct_hist_percentile(r->h_total, 99);
    out->p999_ns = ct_hist_percentile(r->h_total, 99.9);
    out->max_ns = ct_hist_max(r->h_total);
    out->insys_p99_ns = ct_hist_percentile(r->h_insys, 99);
    out->rss_peak = r->rss_peak;
    out->rss_end = r->nseries ? r->series[r->nseries - 1].rss : out->rss_start;
    out->little_L = r->L_samples ? r->L_sum / (double)r->L_samples : 0;
    out->little_lambda = (double)admitted_at_stop / el;
    out->little_W_s = w_count ? w_sum / (double)w_count : 0;
    double lw = out->little_lambda * out->little_W_s;
    out->little_rel_err = out->little_L > 0 ? fabs(out->little_L - lw) / out->little_L
                                            : (lw > 0 ? 1.0 : 0.0);
    out->little_L_exact = (w_sum + r->tail_sum_s) / el;
    out->steady = true;
    if (r->nseries >= 4) {
        double sum = 0;
        size_t cnt = 0;
        for (size_t w = r->nseries / 2; w < r->nseries; w++, cnt++)
            sum += (double)r->series[w].in_system;
        double last = (double)r->series[r->nseries - 1].in_system;
        (void)sum;
        double mid = (double)r->series[r->nseries / 2 - 1].in_system;
        out->steady = last - mid <= 0.025 * (double)admitted_at_stop + 2.0;
    }
    out->guard_tripped = r->guard_tripped;
    out->guard_at_s = r->guard_tripped ? (double)(r->guard_at_ns - r->t0) / 1e9 : 0;
    out->series = r->series;
    out->nseries = r->nseries;
    r->series = NULL;
    rc = 0;
out:
    free(r->ended);
    free(r->offered_by_window);
    free(r->series);
    ct_hist_destroy(r->h_total);
    ct_hist_destroy(r->h_window);
    ct_hist_destroy(r->h_insys);
    pthread_mutex_destroy(&r->mu);
    free(r);
    return rc;
}

int ct_bp_run(const ct_bp_config *cfg, ct_bp_result *out, char *err, size_t errlen)
{
    return run_once(cfg, false, out, err, errlen);
}

double ct_bp_measure_capacity(const ct_bp_config *cfg, double seconds, char *err, size_t errlen)
{
    ct_bp_config c = *cfg;
    c.policy = CT_POLICY_BLOCK;
    c.codel_target_ns = c.codel_interval_ns = 0;
    c.rate = 0;
    c.duration_s = seconds;
    c.max_rss = 0;
    ct_bp_result res;
    if (run_once(&c, true, &res, err, errlen) != 0)
        return -1;
    /* The median of the full windows after the first (threads starting, caches cold; the
     * last one is partial): robust to a window in which another process took a core. */
    double cap = 0;
    if (res.nseries >= 3) {
        double rates[64];
        unsigned k = 0;
        for (size_t w = 1; w + 1 < res.nseries && k < 64; w++)
            rates[k++] = res.series[w].completed_per_s;
        cap = ct_median(rates, k);
    } else {
        cap = res.completed_per_s;
    }
    bool ok = res.verified;
    if (!ok)
        snprintf(err, errlen, "capacity run failed verification: %s", res.verify_msg);
    ct_bp_result_free(&res);
    if (!ok)
        return -1;
    if (!(cap > 0)) {
        snprintf(err, errlen, "capacity run completed nothing");
        return -1;
    }
    return cap;
}

/* ---- the command line ---------------------------------------------------------------------- */

#define MAX_LOADS 16

typedef struct opts {
    bool policies[CT_POLICY_COUNT];
    double loads[MAX_LOADS];
    size_t nloads;
    bool loads_given;
    double rate;
    unsigned stages;
    size_t capacity;
    uint64_t service_ns;
    ct_bp_dist service;
    ct_bp_arrival arrival;
    uint64_t deadline_ns; /* 0: default */
    double duration_s;
    bool short_run;
    uint64_t max_rss;
    ct_format fmt;
    const char *out;
    uint64_t seed;
} opts;

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("contend lab backpressure: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 2;
}

static bool parse_u64(const char *text, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    if (!*text || *text == '-' || *text == '+' || *text == ' ')
        return false;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static bool parse_double(const char *text, double lo, double hi, double *out)
{
    char *end;
    if (!*text || *text == ' ')
        return false;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || *end || !isfinite(v) || v <= lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* "20ms", "500us", "0.02s", "20000000ns", or a bare number of milliseconds. */
static bool parse_duration_ns(const char *text, uint64_t *out)
{
    char *end;
    if (!*text || *text == '-' || *text == '+' || *text == ' ')
        return false;
    errno = 0;
    double v = strtod(text, &end);
    double mult = 1e6;
    if (!strcmp(end, "ns"))
        mult = 1;
    else if (!strcmp(end, "us"))
        mult = 1e3;
    else if (!strcmp(end, "ms") || !*end)
        mult = 1e6;
    else if (!strcmp(end, "s"))
        mult = 1e9;
    else
        return false;
    double ns = v * mult;
    if (errno || !isfinite(ns) || ns < 1000 || ns > 3600e9)
        return false;
    *out = (uint64_t)(ns + 0.5);
    return true;
}

/* "1073741824", "512M", "64MiB", "1G", "100k". */
static bool parse_bytes(const char *text, uint64_t *out)
{
    char *end;
    if (!*text || *text == '-' || *text == '+' || *text == ' ')
        return false;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    uint64_t mult = 1;
    if (!strcmp(end, "k") || !strcmp(end, "K") || !strcmp(end, "KiB"))
        mult = 1024;
    else if (!strcmp(end, "M") || !strcmp(end, "MiB"))
        mult = 1024 * 1024;
    else if (!strcmp(end, "G") || !strcmp(end, "GiB"))
        mult = 1024 * 1024 * 1024;
    else if (*end)
        return false;
    if (errno || v == 0 || v > UINT64_MAX / mult)
        return false;
    *out = v * mult;
    return true;
}

static void help(void)
{
    printf(
        "usage: contend lab backpressure [options]\n\n"
        "An open-loop source (items stamped with their intended arrival time) feeds 1..3\n"
        "pipeline stages (one worker each, service spun on the CPU) and a sink. The service\n"
        "capacity is measured first; then each policy runs at each offered load.\n\n"
        "  --policy P        unbounded|block|drop-newest|drop-oldest|codel|all, or a comma list\n"
        "                    (default all)\n"
        "  --load L,...      offered load as multiples of the measured capacity (default\n"
        "                    0.5,0.9,1.1,2)\n"
        "  --rate R          offered items/s instead of --load (one rate)\n"
        "  --stages N        1..3 (default 1)\n"
        "  --capacity C      per-stage bound for the bounded policies, rounded up to a power\n"
        "                    of two (default 64); CoDel's hard limit\n"
        "  --service-ns N    mean service time per stage, ns (default 100000)\n"
        "  --service D       constant|exponential|bimodal (default constant; bimodal: 90%%\n"
        "                    fast, 10%% ten times slower, same mean)\n"
        "  --arrival A       constant|poisson (default poisson)\n"
        "  --deadline D      goodput counts items done within D of their intended arrival;\n"
        "                    20ms, 500us, 0.1s or a bare number of ms (default 3 x stages x\n"
        "                    capacity x service); CoDel uses interval = D/4, target = D/40\n"
        "  --duration S      seconds per run (default 2), or 'short' (0.5 s per run)\n"
        "  --max-rss BYTES   stop a run whose resident memory exceeds BYTES (512M, 1G, ...;\n"
        "                    default min(1 GiB, RAM/4)), and say so\n"
        "  --seed N          seed of the arrival and service draws (default 1)\n"
        "  --format F        table|csv|json (default table): csv/json carry the time series\n"
        "                    (every 100 ms) and the per-run summaries\n"
        "  --out FILE        write there instead of stdout\n");
}

static int parse_opts(int argc, char **argv, opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < CT_POLICY_COUNT; i++)
        o->policies[i] = true;
    static const double default_loads[] = {0.5, 0.9, 1.1, 2.0};
    memcpy(o->loads, default_loads, sizeof default_loads);
    o->nloads = 4;
    o->stages = 1;
    o->capacity = 64;
    o->service_ns = 100000;
    o->service = CT_BP_CONSTANT;
    o->arrival = CT_BP_ARRIVE_POISSON;
    o->duration_s = 2.0;
    o->max_rss = ct_bp_default_max_rss();
    o->fmt = CT_FORMAT_TABLE;
    o->seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        static const char *const takes_value[] = {
            "--policy", "--load", "--rate", "--stages", "--capacity", "--service-ns",
            "--service", "--arrival", "--deadline", "--duration", "--max-rss", "--seed",
            "--format", "--out"};
        bool known = false;
        for (size_t k = 0; k < sizeof takes_value / sizeof takes_value[0]; k++)
            if (!strcmp(a, takes_value[k]))
                known = true;
        if (!known)
            return bad("unknown option '%s' (see --help)", a);
        if (!v)
            return bad("%s needs a value", a);
        i++;
        uint64_t u;
        if (!strcmp(a, "--policy")) {
            memset(o->policies, 0, sizeof o->policies);
            if (!strcmp(v, "all")) {
                for (int p = 0; p < CT_POLICY_COUNT; p++)
                    o->policies[p] = true;
                continue;
            }
            char buf[256];
            if (strlen(v) >= sizeof buf || !*v)
                return bad("--policy: '%s' is not a policy list", v);
            strcpy(buf, v);
            char *save = NULL;
            size_t nparts = 0;
            for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                ct_policy p;
                if (ct_policy_parse(tok, &p) != 0)
                    return bad("--policy: unknown policy '%s' (unbounded, block, drop-newest, "
                               "drop-oldest, codel, all)", tok);
                o->policies[p] = true;
                nparts++;
            }
            if (!nparts || v[strlen(v) - 1] == ',' || v[0] == ',' || strstr(v, ",,"))
                return bad("--policy: '%s' is not a policy list", v);
        } else if (!strcmp(a, "--load")) {
            o->loads_given = true;
            o->nloads = 0;
            const char *s = v;
            for (;;) {
                char part[64];
                size_t n = strcspn(s, ",");
                if (n == 0 || n >= sizeof part || o->nloads == MAX_LOADS)
                    return bad("--load: '%s' is not a list of up to %d loads", v, MAX_LOADS);
                memcpy(part, s, n);
                part[n] = 0;
                if (!parse_double(part, 0, 100, &o->loads[o->nloads]))
                    return bad("--load: '%s' is not a load (0 < load <= 100)", part);
                o->nloads++;
                if (!s[n])
                    break;
                s += n + 1;
            }
        } else if (!strcmp(a, "--rate")) {
            if (!parse_double(v, 0, 1e8, &o->rate))
                return bad("--rate: '%s' is not a rate in items/s (0 < R <= 1e8)", v);
        } else if (!strcmp(a, "--stages")) {
            if (!parse_u64(v, 1, CT_BP_MAX_STAGES, &u))
                return bad("--stages: '%s' is not a stage count (1..%d)", v, CT_BP_MAX_STAGES);
            o->stages = (unsigned)u;
        } else if (!strcmp(a, "--capacity")) {
            if (!parse_u64(v, 1, (uint64_t)1 << 20, &u))
                return bad("--capacity: '%s' is not a capacity (1..1048576)", v);
            o->capacity = (size_t)u;
        } else if (!strcmp(a, "--service-ns")) {
            if (!parse_u64(v, 100, 1000000000, &u))
                return bad("--service-ns: '%s' is not a service time (100..1000000000 ns)", v);
            o->service_ns = u;
        } else if (!strcmp(a, "--service")) {
            if (!strcmp(v, "constant"))
                o->service = CT_BP_CONSTANT;
            else if (!strcmp(v, "exponential"))
                o->service = CT_BP_EXPONENTIAL;
            else if (!strcmp(v, "bimodal"))
                o->service = CT_BP_BIMODAL;
            else
                return bad("--service: unknown distribution '%s' (constant, exponential, "
                           "bimodal)", v);
        } else if (!strcmp(a, "--arrival")) {
            if (!strcmp(v, "constant"))
                o->arrival = CT_BP_ARRIVE_CONSTANT;
            else if (!strcmp(v, "poisson"))
                o->arrival = CT_BP_ARRIVE_POISSON;
            else
                return bad("--arrival: unknown arrival process '%s' (constant, poisson)", v);
        } else if (!strcmp(a, "--deadline")) {
            if (!parse_duration_ns(v, &o->deadline_ns))
                return bad("--deadline: '%s' is not a deadline (1us..3600s: 20ms, 500us, "
                           "0.1s, or ms)", v);
        } else if (!strcmp(a, "--duration")) {
            if (!strcmp(v, "short")) {
                o->duration_s = 0.5;
                o->short_run = true;
            } else if (!parse_double(v, 0, 3600, &o->duration_s)) {
                return bad("--duration: '%s' is not a positive number of seconds (at most "
                           "3600) or 'short'", v);
            }
        } else if (!strcmp(a, "--max-rss")) {
            if (!parse_bytes(v, &o->max_rss))
                return bad("--max-rss: '%s' is not a size in bytes (512M, 1G, 1073741824)", v);
        } else if (!strcmp(a, "--seed")) {
            if (!parse_u64(v, 0, UINT64_MAX, &o->seed))
                return bad("--seed: '%s' is not a seed (a non-negative integer)", v);
        } else if (!strcmp(a, "--format")) {
            if (ct_format_parse(v, &o->fmt) != 0)
                return bad("--format: unknown format '%s' (table, csv, json)", v);
        } else if (!strcmp(a, "--out")) {
            if (!*v)
                return bad("--out: '' is not a file name");
            o->out = v;
        }
    }
    if (o->rate > 0 && o->loads_given)
        return bad("--rate %g and --load: give one of them", o->rate);
    return 0;
}

/* ---- output ------------------------------------------------------------------------------ */

typedef struct point {
    ct_policy policy;
    double load; /* rate / capacity */
    ct_bp_result res;
} point;

static double ms(uint64_t ns) { return (double)ns / 1e6; }

static void table_header(FILE *f)
{
    fprintf(f, "%-11s %5s %9s %9s %9s %6s %9s %9s %9s %9s %6s %8s %8s %7s %7s %6s  %s\n",
            "policy", "load", "offered/s", "done/s", "good/s", "drop%", "p50 ms", "p99 ms",
            "max ms", "insys99", "depth", "RSS MB", "+RSS MB", "L", "lamW", "err%", "note");
}

static void table_row(FILE *f, const point *pt)
{
    const ct_bp_result *r = &pt->res;
    char note[256] = "";
    if (!r->verified)
        snprintf(note, sizeof note, "VERIFY FAILED: %s", r->verify_msg);
    else if (r->guard_tripped)
        snprintf(note, sizeof note, "stopped by --max-rss at %.2f s", r->guard_at_s);
    else if (!r->steady)
        snprintf(note, sizeof note, "no steady state (backlog grows): L != lambda W");
    else if (r->never_submitted > r->generated / 20)
        snprintf(note, sizeof note, "source %llu arrivals behind: the queue moved to the clients",
                 (unsigned long long)r->never_submitted);
    fprintf(f,
            "%-11s %5.2f %9.0f %9.0f %9.0f %6.1f %9.2f %9.2f %9.2f %9.2f %6llu %8.1f %8.1f "
            "%7.1f %7.1f %6.1f  %s\n",
            ct_policy_name(pt->policy), pt->load, r->offered_per_s, r->completed_per_s,
            r->goodput_per_s, 100.0 * r->drop_fraction, ms(r->p50_ns), ms(r->p99_ns),
            ms(r->max_ns), ms(r->insys_p99_ns), (unsigned long long)r->max_depth,
            (double)r->rss_peak / 1048576.0,
            ((double)r->rss_peak - (double)r->rss_start) / 1048576.0, r->little_L,
            r->little_lambda * r->little_W_s, 100.0 * r->little_rel_err, note);
}

static void jnum(FILE *f, double v)
{
    if (!isfinite(v))
        fputs("null", f);
    else if (v == floor(v) && fabs(v) < 1e15)
        fprintf(f, "%.0f", v);
    else
        fprintf(f, "%.6g", v);
}

static void jstr(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static const char *dist_name(ct_bp_dist d)
{
    return d == CT_BP_EXPONENTIAL ? "exponential" : d == CT_BP_BIMODAL ? "bimodal" : "constant";
}

static void write_json(FILE *f, const opts *o, const ct_bp_config *base, double capacity,
                       const point *pts, size_t n)
{
    fputs("{\n  \"lab\": \"backpressure\",\n  \"machine\": ", f);
    ct_write_machine_json(f, 2);
    fprintf(f, ",\n  \"config\": {\"stages\": %u, \"capacity\": %zu, \"service_ns\": %llu, "
               "\"service\": \"%s\", \"arrival\": \"%s\", \"deadline_ns\": %llu, "
               "\"duration_s\": ",
            base->stages, base->capacity, (unsigned long long)base->service_ns,
            dist_name(base->service),
            base->arrival == CT_BP_ARRIVE_POISSON ? "poisson" : "constant",
            (unsigned long long)base->deadline_ns);
    jnum(f, base->duration_s);
    fprintf(f, ", \"max_rss\": %llu, \"seed\": %llu, \"payload_bytes\": %zu, "
               "\"window_ns\": %llu, \"workers_per_stage\": 1, \"codel_target_ns\": %llu, "
               "\"codel_interval_ns\": %llu},\n",
            (unsigned long long)o->max_rss, (unsigned long long)o->seed, base->payload_bytes,
            (unsigned long long)base->window_ns, (unsigned long long)base->codel_target_ns,
            (unsigned long long)base->codel_interval_ns);
    fputs("  \"capacity_per_s\": ", f);
    jnum(f, capacity);
    fputs(",\n  \"runs\": [", f);
    for (size_t i = 0; i < n; i++) {
        const ct_bp_result *r = &pts[i].res;
        fprintf(f, "%s\n    {\"policy\": \"%s\", \"load\": ", i ? "," : "",
                ct_policy_name(pts[i].policy));
        jnum(f, pts[i].load);
        fputs(", \"rate\": ", f);
        jnum(f, r->cfg.rate);
        fputs(", \"elapsed_s\": ", f);
        jnum(f, r->elapsed_s);
        fprintf(f, ", \"generated\": %llu, \"admitted\": %llu, \"completed\": %llu, "
                   "\"good\": %llu, \"dropped\": %llu, \"cancelled_at_end\": %llu, "
                   "\"never_submitted\": %llu",
                (unsigned long long)r->generated, (unsigned long long)r->admitted,
                (unsigned long long)r->completed, (unsigned long long)r->good,
                (unsigned long long)r->dropped, (unsigned long long)r->cancelled_at_end,
                (unsigned long long)r->never_submitted);
        fputs(",\n     \"offered_per_s\": ", f);
        jnum(f, r->offered_per_s);
        fputs(", \"completed_per_s\": ", f);
        jnum(f, r->completed_per_s);
        fputs(", \"goodput_per_s\": ", f);
        jnum(f, r->goodput_per_s);
        fputs(", \"drop_fraction\": ", f);
        jnum(f, r->drop_fraction);
        fprintf(f, ",\n     \"latency_ns\": {\"p50\": %llu, \"p99\": %llu, \"p999\": %llu, "
                   "\"max\": %llu, \"in_system_p99\": %llu}, \"max_depth\": %llu",
                (unsigned long long)r->p50_ns, (unsigned long long)r->p99_ns,
                (unsigned long long)r->p999_ns, (unsigned long long)r->max_ns,
                (unsigned long long)r->insys_p99_ns, (unsigned long long)r->max_depth);
        fprintf(f, ",\n     \"rss\": {\"start\": %llu, \"peak\": %llu, \"end\": %llu}",
                (unsigned long long)r->rss_start, (unsigned long long)r->rss_peak,
                (unsigned long long)r->rss_end);
        fputs(",\n     \"little\": {\"L\": ", f);
        jnum(f, r->little_L);
        fputs(", \"lambda_per_s\": ", f);
        jnum(f, r->little_lambda);
        fputs(", \"W_s\": ", f);
        jnum(f, r->little_W_s);
        fputs(", \"lambda_W\": ", f);
        jnum(f, r->little_lambda * r->little_W_s);
        fputs(", \"rel_err\": ", f);
        jnum(f, r->little_rel_err);
        fputs(", \"L_exact\": ", f);
        jnum(f, r->little_L_exact);
        fprintf(f, ", \"steady\": %s}", r->steady ? "true" : "false");
        fprintf(f, ",\n     \"guard\": {\"tripped\": %s, \"at_s\": ",
                r->guard_tripped ? "true" : "false");
        jnum(f, r->guard_at_s);
        fprintf(f, "}, \"verified\": %s, \"verify_msg\": ", r->verified ? "true" : "false");
        jstr(f, r->verify_msg);
        fprintf(f, ", \"in_system_at_stop\": %llu,\n     \"series\": [",
                (unsigned long long)r->in_system_at_stop);
        for (size_t w = 0; w < r->nseries; w++) {
            const ct_bp_window *s = &r->series[w];
            fprintf(f, "%s\n      {\"t_s\": ", w ? "," : "");
            jnum(f, s->t_s);
            fputs(", \"offered_per_s\": ", f);
            jnum(f, s->offered_per_s);
            fputs(", \"completed_per_s\": ", f);
            jnum(f, s->completed_per_s);
            fputs(", \"goodput_per_s\": ", f);
            jnum(f, s->goodput_per_s);
            fprintf(f, ", \"drops\": %llu, \"depth\": [", (unsigned long long)s->drops);
            for (unsigned k = 0; k < r->cfg.stages; k++)
                fprintf(f, "%s%llu", k ? ", " : "", (unsigned long long)s->depth[k]);
            fprintf(f, "], \"rss\": %llu, \"p50_ns\": %llu, \"p99_ns\": %llu, \"max_ns\": %llu, "
                       "\"source_lag_ns\": %llu, \"in_system\": %llu}",
                    (unsigned long long)s->rss, (unsigned long long)s->p50_ns,
                    (unsigned long long)s->p99_ns, (unsigned long long)s->max_ns,
                    (unsigned long long)s->source_lag_ns, (unsigned long long)s->in_system);
        }
        fputs("]}", f);
    }
    fputs("\n  ]\n}\n", f);
}

static void write_csv(FILE *f, const point *pts, size_t n)
{
    /* One header for both kinds of row: `series` rows (every window) and one `summary` row
     * per run; a column that does not apply to a kind is empty. */
    fputs("kind,policy,load,rate,t_s,offered_per_s,completed_per_s,goodput_per_s,drops,"
          "depth1,depth2,depth3,rss_bytes,p50_ns,p99_ns,max_ns,source_lag_ns,in_system,"
          "in_system_p99_ns,drop_fraction,little_L,little_lambda_W,little_rel_err,"
          "little_L_exact,steady,guard_tripped,verified\n", f);
    for (size_t i = 0; i < n; i++) {
        const ct_bp_result *r = &pts[i].res;
        const char *pol = ct_policy_name(pts[i].policy);
        for (size_t w = 0; w < r->nseries; w++) {
            const ct_bp_window *s = &r->series[w];
            fprintf(f, "series,%s,%.3g,%.6g,%.3f,%.6g,%.6g,%.6g,%llu", pol, pts[i].load,
                    r->cfg.rate, s->t_s, s->offered_per_s, s->completed_per_s,
                    s->goodput_per_s, (unsigned long long)s->drops);
            for (unsigned k = 0; k < CT_BP_MAX_STAGES; k++) {
                if (k < r->cfg.stages)
                    fprintf(f, ",%llu", (unsigned long long)s->depth[k]);
                else
                    fputs(",", f);
            }
            fprintf(f, ",%llu,%llu,%llu,%llu,%llu,%llu,,,,,,,,,\n", (unsigned long long)s->rss,
                    (unsigned long long)s->p50_ns, (unsigned long long)s->p99_ns,
                    (unsigned long long)s->max_ns, (unsigned long long)s->source_lag_ns,
                    (unsigned long long)s->in_system);
        }
        fprintf(f, "summary,%s,%.3g,%.6g,%.3f,%.6g,%.6g,%.6g,%llu,,,,%llu,%llu,%llu,%llu,,,%llu,"
                   "%.6g,%.6g,%.6g,%.6g,%.6g,%s,%s,%s\n",
                pol, pts[i].load, r->cfg.rate, r->elapsed_s, r->offered_per_s,
                r->completed_per_s, r->goodput_per_s, (unsigned long long)r->dropped,
                (unsigned long long)r->rss_peak, (unsigned long long)r->p50_ns,
                (unsigned long long)r->p99_ns, (unsigned long long)r->max_ns,
                (unsigned long long)r->insys_p99_ns, r->drop_fraction, r->little_L,
                r->little_lambda * r->little_W_s, r->little_rel_err, r->little_L_exact,
                r->steady ? "true" : "false", r->guard_tripped ? "true" : "false",
                r->verified ? "true" : "false");
    }
}

static int lab_main(int argc, char **argv)
{
    opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc;
    FILE *f = stdout;
    if (o.out && !(f = fopen(o.out, "w")))
        return bad("--out: cannot write '%s': %s", o.out, strerror(errno));
    ct_bp_config base;
    ct_bp_config_defaults(&base);
    base.stages = o.stages;
    base.capacity = o.capacity;
    base.service_ns = o.service_ns;
    base.service = o.service;
    base.arrival = o.arrival;
    base.duration_s = o.duration_s;
    base.max_rss = o.max_rss;
    base.seed = o.seed;
    base.deadline_ns = o.deadline_ns ? o.deadline_ns
                                     : 3ull * o.stages * o.capacity * o.service_ns;
    /* CoDel's time scales follow the deadline: interval = deadline / 4 (how long a standing
     * queue is tolerated before shedding starts), target = interval / 10 (the RFC's 5-10%). */
    base.codel_interval_ns = base.deadline_ns / 4;
    base.codel_target_ns = base.codel_interval_ns / 10;
    bool table = o.fmt == CT_FORMAT_TABLE;

    char err[256];
    double capacity = ct_bp_measure_capacity(&base, o.short_run ? 0.4 : 0.6, err, sizeof err);
    if (capacity < 0) {
        fprintf(stderr, "contend lab backpressure: %s\n", err);
        if (f != stdout)
            fclose(f);
        return 1;
    }
    if (table) {
        fprintf(f, "backpressure lab: %u stage(s), 1 worker each, capacity %zu per stage, "
                   "service %s %.1f us, %s arrivals, deadline %.2f ms, %.2f s per run, "
                   "guard %.0f MiB\n",
                o.stages, o.capacity, dist_name(o.service), (double)o.service_ns / 1e3,
                o.arrival == CT_BP_ARRIVE_POISSON ? "Poisson" : "constant",
                ms(base.deadline_ns), o.duration_s, (double)o.max_rss / 1048576.0);
        fprintf(f, "measured service capacity: %.0f items/s (closed loop, policy block)\n",
                capacity);
        fprintf(f, "latency from the INTENDED arrival (no coordinated omission); insys99: "
                   "p99 from admission; depth: largest seen; L vs lambda x W: Little's law\n\n");
        table_header(f);
        fflush(f);
    }
    size_t nrates = o.rate > 0 ? 1 : o.nloads;
    point *pts = calloc((size_t)CT_POLICY_COUNT * nrates, sizeof *pts);
    if (!pts) {
        if (f != stdout)
            fclose(f);
        return bad("out of memory");
    }
    size_t n = 0;
    bool all_ok = true;
    for (int p = 0; p < CT_POLICY_COUNT; p++) {
        if (!o.policies[p])
            continue;
        for (size_t l = 0; l < nrates; l++) {
            ct_bp_config c = base;
            c.policy = (ct_policy)p;
            c.rate = o.rate > 0 ? o.rate : o.loads[l] * capacity;
            if (c.policy != CT_POLICY_CODEL)
                c.codel_target_ns = c.codel_interval_ns = 0;
            point *pt = &pts[n];
            pt->policy = c.policy;
            pt->load = c.rate / capacity;
            if (ct_bp_run(&c, &pt->res, err, sizeof err) != 0) {
                fprintf(stderr, "contend lab backpressure: %s at load %.2f: %s\n",
                        ct_policy_name(c.policy), pt->load, err);
                all_ok = false;
                continue;
            }
            n++;
            if (!pt->res.verified)
                all_ok = false;
            if (table) {
                table_row(f, pt);
                fflush(f);
            }
        }
    }
    if (table) {
        for (size_t i = 0; i < n; i++)
            if (pts[i].res.guard_tripped)
                fprintf(f, "\n%s at load %.2f: resident memory passed --max-rss (%.0f MiB) "
                           "after %.2f s: the run was stopped so the machine stays up.\n",
                        ct_policy_name(pts[i].policy), pts[i].load,
                        (double)o.max_rss / 1048576.0, pts[i].res.guard_at_s);
        fputs("\ntime series (every 100 ms): --format csv or --format json\n", f);
    } else if (o.fmt == CT_FORMAT_JSON) {
        write_json(f, &o, &base, capacity, pts, n);
    } else {
        write_csv(f, pts, n);
    }
    for (size_t i = 0; i < n; i++)
        ct_bp_result_free(&pts[i].res);
    free(pts);
    if (f != stdout && fclose(f) != 0)
        return bad("--out: cannot write '%s': %s", o.out, strerror(errno));
    fflush(stdout);
    return all_ok ? 0 : 1;
}

const ct_lab ct_lab_backpressure = {
    .name = "backpressure",
    .summary = "unbounded vs bounded/shedding/CoDel pipelines under overload, over time",
    .main = lab_main,
    .help = help,
};
