/* contend: the command line. Argument parsing only; everything else is the harness.
 *
 * Bad input gets one line on stderr naming the bad value and exit status 2. A run whose
 * verification failed exits 1, after printing every result. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "contend/chaos.h"
#include "contend/harness.h"
#include "contend/lock.h"
#include "contend/queue.h"
#include "hw_counters.h"
#include "lab.h"
#include "probe.h"
#include "topology.h"

#define MAX_THREADS 4096u
#define MAX_LIST 64

static _Noreturn void usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("contend: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* ---- value parsers: whole string or error, never clamped ---------------------------- */

static unsigned long long parse_uint(const char *flag, const char *text, unsigned long long lo,
                                     unsigned long long hi, const char *what)
{
    char *end;
    errno = 0;
    if (!*text || *text == '-' || *text == '+' || *text == ' ')
        usage_error("%s: '%s' is not %s (%llu..%llu)", flag, text, what, lo, hi);
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v < lo || v > hi)
        usage_error("%s: '%s' is not %s (%llu..%llu)", flag, text, what, lo, hi);
    return v;
}

static double parse_seconds(const char *flag, const char *text, bool allow_zero)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (!*text || errno || *end || !isfinite(v) || v < 0 || (!allow_zero && v == 0) || v > 3600)
        usage_error("%s: '%s' is not a %s number of seconds (at most 3600)", flag, text,
                    allow_zero ? "non-negative" : "positive");
    return v;
}

/* Splits a comma-separated list into at most MAX_LIST items (in place). */
static size_t split_list(const char *flag, char *text, char **items)
{
    size_t n = 0;
    char *save = NULL;
    if (!*text || text[0] == ',' || text[strlen(text) - 1] == ',' || strstr(text, ",,"))
        usage_error("%s: '%s' has an empty item", flag, text);
    for (char *tok = strtok_r(text, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == MAX_LIST)
            usage_error("%s: more than %d items", flag, MAX_LIST);
        items[n++] = tok;
    }
    return n;
}

static size_t parse_threads(const char *flag, const char *text, unsigned *out)
{
    char buf[1024], *items[MAX_LIST];
    if (strlen(text) >= sizeof buf)
        usage_error("%s: list too long", flag);
    strcpy(buf, text);
    size_t n = split_list(flag, buf, items);
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned)parse_uint(flag, items[i], 1, MAX_THREADS, "a thread count");
    return n;
}

/* ---- options ------------------------------------------------------------------------- */

typedef struct options {
    ct_run_config cfg;
    unsigned threads[MAX_LIST];
    size_t nthreads;
    bool threads_given;
    char impl_buf[4096];
    char *impls[MAX_LIST];
    size_t nimpls;
    ct_format format;
    bool format_given;
    const char *out;
    bool quick;
    bool quiet;
    bool cfg_given_duration, cfg_given_repeat, cfg_given_warmup, pin_given;
    int pins[3]; /* --pin list (run: each is a plan point; suite: one) */
    size_t npins;
    char pin_buf[64];
    unsigned producers[MAX_LIST], consumers[MAX_LIST];
    size_t nproducers, nconsumers;
    bool capacity_given, mode_given;
    double stress_seconds;
    bool workload_given, n_given;
} options;

enum { OPT_RUN = 1, OPT_SUITE = 2, OPT_STRESS = 4 };

typedef struct flag_spec {
    const char *name;
    bool takes_value;
    int where; /* OPT_RUN | OPT_SUITE */
} flag_spec;

static const flag_spec flags[] = {
    {"--impl", true, OPT_RUN},        {"--threads", true, OPT_RUN | OPT_SUITE},
    {"--duration", true, OPT_RUN | OPT_SUITE}, {"--warmup", true, OPT_RUN | OPT_SUITE},
    {"--repeat", true, OPT_RUN | OPT_SUITE},   {"--cs-ns", true, OPT_RUN},
    {"--think-ns", true, OPT_RUN},    {"--pin", true, OPT_RUN | OPT_SUITE},
    {"--format", true, OPT_RUN | OPT_SUITE},   {"--out", true, OPT_RUN | OPT_SUITE},
    {"--sample", true, OPT_RUN | OPT_SUITE},   {"--no-hw", false, OPT_RUN | OPT_SUITE},
    {"--quiet", false, OPT_RUN | OPT_SUITE},   {"--quick", false, OPT_SUITE},
    {"--producers", true, OPT_RUN},   {"--consumers", true, OPT_RUN},
    {"--capacity", true, OPT_RUN},    {"--mode", true, OPT_RUN},
    {"--seconds", true, OPT_STRESS},
    {"--workload", true, OPT_RUN},    {"--n", true, OPT_RUN},
};

static void apply_flag(options *o, const char *name, const char *value)
{
    if (!strcmp(name, "--impl")) {
        if (strlen(value) >= sizeof o->impl_buf)
            usage_error("--impl: list too long");
        strcpy(o->impl_buf, value);
        o->nimpls = split_list("--impl", o->impl_buf, o->impls);
    } else if (!strcmp(name, "--threads")) {
        o->nthreads = parse_threads(name, value, o->threads);
        o->threads_given = true;
    } else if (!strcmp(name, "--duration")) {
        o->cfg.duration_s = parse_seconds(name, value, false);
        o->cfg_given_duration = true;
    } else if (!strcmp(name, "--warmup")) {
        o->cfg.warmup_s = parse_seconds(name, value, true);
        o->cfg_given_warmup = true;
    } else if (!strcmp(name, "--repeat")) {
        o->cfg.repeat = (unsigned)parse_uint(name, value, 1, CT_MAX_REPEAT, "a repeat count");
        o->cfg_given_repeat = true;
    } else if (!strcmp(name, "--cs-ns")) {
        o->cfg.params.cs_ns = parse_uint(name, value, 0, 1000000000ull, "a duration in ns");
    } else if (!strcmp(name, "--think-ns")) {
        o->cfg.params.think_ns = parse_uint(name, value, 0, 1000000000ull, "a duration in ns");
    } else if (!strcmp(name, "--pin")) {
        if (strlen(value) >= sizeof o->pin_buf)
            usage_error("--pin: '%s' is too long", value);
        strcpy(o->pin_buf, value);
        char *items[MAX_LIST];
        size_t n = split_list(name, o->pin_buf, items);
        if (n > 3)
            usage_error("--pin: '%s' has more than three modes", value);
        for (size_t i = 0; i < n; i++) {
            ct_pin_mode m;
            if (ct_pin_mode_parse(items[i], &m))
                usage_error("--pin: '%s' is not none, compact or scatter", items[i]);
            for (size_t k = 0; k < i; k++)
                if (o->pins[k] == (int)m)
                    usage_error("--pin: '%s' is given twice", items[i]);
            o->pins[i] = (int)m;
        }
        o->npins = n;
        o->cfg.pin = o->pins[0];
        o->pin_given = true;
    } else if (!strcmp(name, "--producers")) {
        o->nproducers = parse_threads(name, value, o->producers);
    } else if (!strcmp(name, "--consumers")) {
        o->nconsumers = parse_threads(name, value, o->consumers);
    } else if (!strcmp(name, "--capacity")) {
        o->cfg.params.capacity = parse_uint(name, value, 1, 1ull << 30, "a queue capacity");
        o->capacity_given = true;
    } else if (!strcmp(name, "--mode")) {
        if (!strcmp(value, "try"))
            o->cfg.params.mode = CT_MODE_TRY;
        else if (!strcmp(value, "blocking"))
            o->cfg.params.mode = CT_MODE_BLOCKING;
        else if (!strcmp(value, "spin"))
            o->cfg.params.mode = CT_MODE_SPIN;
        else
            usage_error("--mode: '%s' is not try, blocking or spin", value);
        o->mode_given = true;
    } else if (!strcmp(name, "--workload")) {
        if (!*value)
            usage_error("--workload: empty name");
        o->cfg.params.workload = value;
        o->workload_given = true;
    } else if (!strcmp(name, "--n")) {
        o->cfg.params.n = parse_uint(name, value, 1, 1000000000000ull, "a work size");
        o->n_given = true;
    } else if (!strcmp(name, "--format")) {
        if (ct_format_parse(value, &o->format))
            usage_error("--format: '%s' is not table, csv or json", value);
        o->format_given = true;
    } else if (!strcmp(name, "--out")) {
        if (!*value)
            usage_error("--out: empty path");
        o->out = value;
    } else if (!strcmp(name, "--sample")) {
        o->cfg.sample_period = parse_uint(name, value, 0, 1u << 30, "a sampling period");
    } else if (!strcmp(name, "--no-hw")) {
        o->cfg.hw_counters = false;
    } else if (!strcmp(name, "--quiet")) {
        o->quiet = true;
    } else if (!strcmp(name, "--quick")) {
        o->quick = true;
    } else if (!strcmp(name, "--seconds")) {
        o->stress_seconds = parse_seconds(name, value, false);
    }
}

/* Parses argv[first..] into o; positional arguments are collected into pos. */
static size_t parse_options(int argc, char **argv, int first, int where, options *o, char **pos,
                            size_t maxpos, const char *cmd)
{
    size_t npos = 0;
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        if (arg[0] != '-' || arg[1] == 0) {
            if (npos == maxpos)
                usage_error("%s: unexpected argument '%s'", cmd, arg);
            pos[npos++] = argv[i];
            continue;
        }
        char name[64];
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        if (len >= sizeof name)
            usage_error("%s: unknown option '%s' (see 'contend %s --help')", cmd, arg, cmd);
        memcpy(name, arg, len);
        name[len] = 0;
        const flag_spec *spec = NULL;
        for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++)
            if (!strcmp(flags[k].name, name) && (flags[k].where & where))
                spec = &flags[k];
        if (!spec)
            usage_error("%s: unknown option '%s' (see 'contend %s --help')", cmd, name, cmd);
        const char *value = NULL;
        if (spec->takes_value) {
            if (eq)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else
                usage_error("%s needs a value", name);
        } else if (eq) {
            usage_error("%s takes no value", name);
        }
        apply_flag(o, name, value);
    }
    return npos;
}

/* ---- running a plan ------------------------------------------------------------------ */

typedef struct plan_item {
    const ct_workload *w;
    const char *impl;
    unsigned threads;
    ct_params params;
    int pin; /* ct_pin_mode */
} plan_item;

static int run_plan(const plan_item *items, size_t n, const ct_run_config *base, ct_report *rep,
                    bool progress)
{
    int status = 0;
    for (size_t i = 0; i < n; i++) {
        ct_run_config cfg = *base;
        cfg.params = items[i].params;
        cfg.pin = items[i].pin;
        if (progress)
            fprintf(stderr, "\r\033[K[%zu/%zu] %s %s x%u", i + 1, n, items[i].w->name,
                    items[i].impl, items[i].threads);
        ct_result res;
        char err[256] = "";
        if (ct_run_point(items[i].w, items[i].impl, items[i].threads, &cfg, &res, err,
                         sizeof err)) {
            if (progress)
                fputs("\r\033[K", stderr);
            fprintf(stderr, "contend: %s %s x%u: %s\n", items[i].w->name, items[i].impl,
                    items[i].threads, err);
            status = 1;
            continue;
        }
        if (!res.verified) {
            if (progress)
                fputs("\r\033[K", stderr);
            fprintf(stderr, "contend: VERIFY FAILED: %s %s x%u: %s\n", res.bench, res.impl,
                    res.threads, res.verify_msg);
            status = 1;
        }
        if (ct_report_add(rep, &res)) {
            fprintf(stderr, "contend: out of memory\n");
            return 1;
        }
    }
    if (progress)
        fputs("\r\033[K", stderr);
    return status;
}

static FILE *open_out(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "contend: --out: cannot write '%s': %s\n", path, strerror(errno));
        exit(2);
    }
    return f;
}

/* ---- commands -------------------------------------------------------------------------- */

static void print_main_help(FILE *f)
{
    fputs("contend: concurrency primitives and the harness that measures them\n\n"
          "usage: contend list\n"
          "       contend run BENCH [options]    measure one workload (contend run --help)\n"
          "       contend suite [--quick]        the standard set (contend suite --help)\n"
          "       contend stress BENCH [--seconds N]  soak and verify (contend stress --help)\n"
          "       contend probe [--format F]     the machine's limits (contend probe --help)\n"
          "       contend lab [NAME [options]]   demonstrations (contend lab lists them)\n"
          "       contend --version\n",
          f);
}

static void print_run_help(void)
{
    fputs("usage: contend run BENCH [options]\n\n"
          "  --impl a,b,...      implementations (default: all of BENCH's; see 'contend list')\n"
          "  --threads 1,2,4,8   thread counts, 1..4096; more than the CPUs is allowed\n"
          "  --duration S        measured seconds per repeat (default 1)\n"
          "  --warmup S          seconds before measuring (default 0.1)\n"
          "  --repeat R          runs per point, 1..100; median, min and max (default 3)\n"
          "  --cs-ns N           extra work inside the critical section, ns (default 0)\n"
          "  --think-ns N        private work between operations, ns (default 0)\n"
          "  queue workloads take, instead of --threads:\n"
          "  --producers LIST    producer counts (default 1,2,4), paired with --consumers\n"
          "  --consumers LIST    consumer counts (default: as many as producers)\n"
          "  --capacity N        queue capacity, 1..2^30 (default 1024)\n"
          "  --mode M            try (retry: back off, then yield) | blocking (the queue's own\n"
          "                      waiting) | spin (retry after one pause, forever); default try;\n"
          "                      queue runs are pinned compact by default\n"
          "  pool takes (one run = a fixed amount of work; 'seconds' = median wall time):\n"
          "  --workload W        fib | uts | sort | imbalanced-for | latency | sparse | idle\n"
          "                      (default fib)\n"
          "  --n N               its size: fib(N) 30, uts root children 2000, sort 10^7 ints,\n"
          "                      imbalanced-for 200000 indices, latency 10000 and sparse 5000\n"
          "                      tasks, idle 1000 ms\n"
          "                      (work_overhead, T1/Tserial, needs a 1-thread point in the run:\n"
          "                      null otherwise)\n"
          "  --pin MODES         none | compact | scatter, or a list of them, each a separate\n"
          "                      point (hwloc; default none, queues compact)\n"
          "  --sample N          time one op in N for latency; 0 = off (default 4096)\n"
          "  --no-hw             do not open hardware counters\n"
          "  --format F          table | csv | json (default table)\n"
          "  --out FILE          write there instead of stdout\n"
          "  --quiet             no progress line on stderr\n\n"
          "Exit status: 0 all verified, 1 a verification or run failed, 2 bad input.\n",
          stdout);
}

static void print_stress_help(void)
{
    fputs("usage: contend stress BENCH [--seconds N] [run options]\n\n"
          "Soaks BENCH: runs every point of the plan (the same options as 'contend run')\n"
          "again and again in short rounds (--duration, default 0.2 s; no warm-up, one repeat)\n"
          "until N seconds (default 10) have passed, verifying every round. Reports, per point,\n"
          "rounds, operations checked and failures, and the first failure's message. In the\n"
          "chaos build (-DCONTEND_CHAOS=ON) the rounds explore many more interleavings; the\n"
          "seed is printed (replay with CT_CHAOS_SEED).\n"
          "Exit status: 0 no failure, 1 a failure, 2 bad input.\n",
          stdout);
}

static void print_suite_help(void)
{
    fputs("usage: contend suite [--quick] [options]\n\n"
          "Runs the standard set of workloads (counter, false-sharing, queue, pool, stack), prints\n"
          "a table and writes DIR/results.json and DIR/results.csv; then the backpressure lab,\n"
          "to DIR/backpressure.json.\n\n"
          "  --quick             short windows (about two minutes on 2 cores)\n"
          "  --out DIR           where results go (default results/latest)\n"
          "  --threads LIST      override the thread counts\n"
          "  --duration S, --warmup S, --repeat R, --pin MODE, --sample N, --no-hw, --quiet\n"
          "  --format F          what goes to stdout: table (default), csv or json\n",
          stdout);
}

static bool wants_help(int argc, char **argv, int first)
{
    for (int i = first; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
    return false;
}

static int cmd_list(int argc, char **argv)
{
    if (argc > 2)
        usage_error("list: unexpected argument '%s'", argv[2]);
    for (size_t i = 0; i < ct_workload_count(); i++) {
        const ct_workload *w = ct_workload_get(i);
        printf("%s: %s\n", w->name, w->summary);
        for (size_t k = 0; k < w->impl_count(); k++)
            printf("  %-15s %s\n", w->impl_name(k), w->impl_summary(k));
    }
    return 0;
}

static void options_defaults(options *o)
{
    memset(o, 0, sizeof *o);
    ct_run_config_defaults(&o->cfg);
    o->format = CT_FORMAT_TABLE;
}

static int stress_plan(const plan_item *plan, size_t n, const options *o);

/* `run` measures a plan; `stress` soaks the same plan (stress == true). */
static int cmd_run(int argc, char **argv, bool stress)
{
    if (wants_help(argc, argv, 2)) {
        if (stress)
            print_stress_help();
        else
            print_run_help();
        return 0;
    }
    options o;
    options_defaults(&o);
    char *pos[1];
    size_t npos = parse_options(argc, argv, 2, stress ? OPT_RUN | OPT_STRESS : OPT_RUN, &o, pos,
                                1, stress ? "stress" : "run");
    if (npos == 0)
        usage_error("%s: which bench? (see 'contend list')", stress ? "stress" : "run");
    const ct_workload *w = ct_workload_find(pos[0]);
    if (!w)
        usage_error("run: unknown bench '%s' (see 'contend list')", pos[0]);
    for (size_t i = 0; i < o.nimpls; i++)
        if (!ct_workload_has_impl(w, o.impls[i]))
            usage_error("run: %s has no implementation '%s' (see 'contend list')", w->name,
                        o.impls[i]);
    if ((o.workload_given || o.n_given) && !w->variants)
        usage_error("run: %s takes no --workload or --n", w->name);
    if (w->check_params) {
        char why[256];
        if (!w->check_params(&o.cfg.params, why, sizeof why))
            usage_error("%s", why);
    }
    /* Producer/consumer workloads take --producers and --consumers (paired item by item; a
     * single value pairs with every value of the other list); the rest take --threads. */
    ct_params params[MAX_LIST];
    size_t npoints;
    if (w->producer_consumer) {
        if (o.threads_given)
            usage_error("run: %s takes --producers and --consumers, not --threads", w->name);
        if (!o.nproducers)
            o.nproducers = parse_threads("--producers", "1,2,4", o.producers);
        if (!o.nconsumers) { /* default: as many consumers as producers */
            memcpy(o.consumers, o.producers, sizeof o.producers);
            o.nconsumers = o.nproducers;
        }
        if (o.nproducers != o.nconsumers && o.nproducers != 1 && o.nconsumers != 1)
            usage_error("run: --producers has %zu values and --consumers %zu: give equally many,"
                        " or one", o.nproducers, o.nconsumers);
        npoints = o.nproducers > o.nconsumers ? o.nproducers : o.nconsumers;
        for (size_t i = 0; i < npoints; i++) {
            params[i] = o.cfg.params;
            params[i].producers = o.producers[o.nproducers == 1 ? 0 : i];
            params[i].consumers = o.consumers[o.nconsumers == 1 ? 0 : i];
            if (params[i].producers + params[i].consumers > MAX_THREADS)
                usage_error("run: %u producers + %u consumers is more than %u threads",
                            params[i].producers, params[i].consumers, MAX_THREADS);
            if (!o.capacity_given)
                params[i].capacity = 1024;
            o.threads[i] = params[i].producers + params[i].consumers;
        }
        /* Queue runs are pinned by default: on 2 cores an unpinned 1:1 run is bimodal (both
         * threads on one CPU hand items over far faster than across CPUs). */
        if (!o.pin_given)
            o.cfg.pin = CT_PIN_COMPACT;
    } else {
        if (o.nproducers || o.nconsumers || o.capacity_given || o.mode_given)
            usage_error("run: %s takes --threads, not --producers/--consumers/--capacity/--mode",
                        w->name);
        if (!o.threads_given)
            o.nthreads = parse_threads("--threads", "1,2,4,8", o.threads);
        npoints = o.nthreads;
        for (size_t i = 0; i < npoints; i++)
            params[i] = o.cfg.params;
    }
    if (!o.pin_given) {
        o.pins[0] = o.cfg.pin;
        o.npins = 1;
    }
    size_t nimpl = o.nimpls ? o.nimpls : w->impl_count();
    size_t n = nimpl * npoints * o.npins;
    plan_item *plan = calloc(n, sizeof *plan);
    if (!plan)
        return 1;
    size_t k = 0;
    for (size_t p = 0; p < o.npins; p++) /* placement outermost: the table groups by it */
    for (size_t i = 0; i < nimpl; i++)
        for (size_t t = 0; t < npoints; t++) {
            const char *impl = o.nimpls ? o.impls[i] : w->impl_name(i);
            const ct_queue_class *qc = w->producer_consumer ? ct_queue_class_find(impl) : NULL;
            if (qc && ((qc->max_producers && params[t].producers > qc->max_producers) ||
                       (qc->max_consumers && params[t].consumers > qc->max_consumers))) {
                if (o.nimpls) { /* asked for by name: say why it cannot run */
                    free(plan);
                    usage_error("run: %s allows at most %u producer(s) and %u consumer(s), not"
                                " %u:%u", impl, qc->max_producers, qc->max_consumers,
                                params[t].producers, params[t].consumers);
                }
                continue; /* all implementations: skip the ones this mix does not fit */
            }
            if (w->impl_supports && !w->impl_supports(impl, &params[t])) {
                if (o.nimpls) {
                    free(plan);
                    usage_error("run: %s cannot run --workload %s", impl,
                                params[t].workload ? params[t].workload : "(default)");
                }
                continue;
            }
            plan[k++] = (plan_item){w, impl, o.threads[t], params[t], o.pins[p]};
        }
    n = k;
    if (stress) {
        int st = stress_plan(plan, n, &o);
        free(plan);
        return st;
    }
    FILE *out = o.out ? open_out(o.out) : stdout;
    ct_report rep = {0};
    ct_probe_summary(); /* the machine section reports the limits measured before the run */
    int status = run_plan(plan, n, &o.cfg, &rep, !o.quiet && isatty(2));
    ct_report_finish(&rep);
    ct_report_write(out, &rep, o.format);
    if (out != stdout)
        fclose(out);
    ct_report_free(&rep);
    free(plan);
    return status;
}

/* The standard suite. Quick: the counter at full contention on 1, 2, 4 and 8 threads and the
 * false-sharing layouts on 1, 2 and 4, every implementation, short windows (~75 s on 2 cores).
 * Full: also a moderate-contention counter and false sharing on 8 threads, 1 s windows. */
typedef struct suite_entry {
    const char *bench;
    const char *threads;
    ct_params params;
    bool quick;
} suite_entry;

static const suite_entry suite[] = {
    {"counter", "1,2,4,8", {.cs_ns = 0, .think_ns = 0}, true},
    {"counter", "1,2,4,8", {.cs_ns = 50, .think_ns = 200}, false},
    {"false-sharing", "1,2,4", {.cs_ns = 0}, true},
    {"false-sharing", "8", {.cs_ns = 0}, false},
    /* Queue entries: the list is producers, with as many consumers (1:1, 2:2, ...). */
    {"queue", "1,2", {.capacity = 1024, .mode = CT_MODE_TRY}, true},
    {"queue", "1,4,8", {.capacity = 1024, .mode = CT_MODE_BLOCKING}, true},
    {"queue", "1,2", {.capacity = 1024, .mode = CT_MODE_SPIN}, false},
    /* Pool entries: fixed work (--workload), default sizes; the thread list is workers. */
    {"pool", "1,2,4", {.workload = "fib"}, true},
    {"pool", "1,2,4", {.workload = "uts"}, false},
    {"pool", "1,2,4", {.workload = "sort"}, false},
    {"pool", "1,2,4", {.workload = "imbalanced-for"}, false},
    {"pool", "2", {.workload = "latency"}, false},
    {"stack", "1,2,4", {.cs_ns = 0}, true},
};

static int mkdir_p(const char *path)
{
    char buf[4096];
    if (strlen(path) >= sizeof buf)
        return -1;
    strcpy(buf, path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return -1;
    return 0;
}

static int cmd_suite(int argc, char **argv)
{
    if (wants_help(argc, argv, 2)) {
        print_suite_help();
        return 0;
    }
    options o;
    options_defaults(&o);
    char *pos[1];
    if (parse_options(argc, argv, 2, OPT_SUITE, &o, pos, 0, "suite"))
        usage_error("suite: unexpected argument");
    if (o.npins > 1)
        usage_error("suite: --pin takes one mode, not a list");
    if (o.quick) {
        if (!o.cfg_given_duration)
            o.cfg.duration_s = 0.2;
        if (!o.cfg_given_warmup)
            o.cfg.warmup_s = 0.05;
    }
    const char *dir = o.out ? o.out : "results/latest";
    if (mkdir_p(dir))
        usage_error("--out: cannot create directory '%s': %s", dir, strerror(errno));

    size_t cap = 0;
    for (size_t s = 0; s < sizeof suite / sizeof suite[0]; s++) {
        const ct_workload *w = ct_workload_find(suite[s].bench);
        cap += w ? w->impl_count() * MAX_LIST : 0;
    }
    plan_item *plan = calloc(cap ? cap : 1, sizeof *plan);
    if (!plan)
        return 1;
    size_t n = 0;
    for (size_t s = 0; s < sizeof suite / sizeof suite[0]; s++) {
        if (o.quick && !suite[s].quick)
            continue;
        const ct_workload *w = ct_workload_find(suite[s].bench);
        if (!w)
            continue;
        unsigned threads[MAX_LIST];
        size_t nt = o.threads_given ? o.nthreads : parse_threads("suite", suite[s].threads, threads);
        const unsigned *tl = o.threads_given ? o.threads : threads;
        for (size_t i = 0; i < w->impl_count(); i++)
            for (size_t t = 0; t < nt; t++) {
                ct_params params = suite[s].params;
                unsigned threads_t = tl[t];
                if (w->producer_consumer) {
                    params.producers = params.consumers = tl[t];
                    threads_t = 2 * tl[t];
                    const ct_queue_class *qc = ct_queue_class_find(w->impl_name(i));
                    if (qc && qc->max_producers && tl[t] > qc->max_producers)
                        continue; /* spsc runs only 1:1 */
                }
                if (w->impl_supports && !w->impl_supports(w->impl_name(i), &params))
                    continue; /* e.g. OpenMP cannot take tasks from outside its team */
                /* Queue runs are pinned unless --pin says otherwise (see cmd_run). */
                int pin = w->producer_consumer && !o.pin_given ? CT_PIN_COMPACT : o.cfg.pin;
                plan[n++] = (plan_item){w, w->impl_name(i), threads_t, params, pin};
            }
    }
    ct_report rep = {0};
    ct_probe_summary(); /* the machine section reports the limits measured before the run */
    int status = run_plan(plan, n, &o.cfg, &rep, !o.quiet && isatty(2));
    ct_report_finish(&rep);
    ct_report_write(stdout, &rep, o.format);
    char path[4200];
    snprintf(path, sizeof path, "%s/results.json", dir);
    FILE *f = open_out(path);
    ct_report_write(f, &rep, CT_FORMAT_JSON);
    fclose(f);
    snprintf(path, sizeof path, "%s/results.csv", dir);
    f = open_out(path);
    ct_report_write(f, &rep, CT_FORMAT_CSV);
    fclose(f);
    fprintf(stderr, "contend: wrote %s/results.json and %s/results.csv\n", dir, dir);
    ct_report_free(&rep);
    free(plan);
    /* The backpressure lab: time series, not throughput points, so its own JSON file. */
    const ct_lab *bp = ct_lab_find("backpressure");
    if (bp) {
        snprintf(path, sizeof path, "%s/backpressure.json", dir);
        char *lab_argv[] = {"backpressure", "--duration", o.quick ? "short" : "2", "--format",
                            "json", "--out", path, NULL};
        if (!o.quiet)
            fprintf(stderr, "contend: lab backpressure (%s)...\n",
                    o.quick ? "0.5 s per run" : "2 s per run");
        int rc = bp->main(7, lab_argv);
        if (rc != 0) {
            fprintf(stderr, "contend: lab backpressure exited %d\n", rc);
            status = 1;
        } else {
            fprintf(stderr, "contend: wrote %s\n", path);
        }
    }
    return status;
}

/* Round-robin over the plan until the time is up. A point that fails setup (not a verification
 * failure) is reported and dropped from the rotation. */
static int stress_plan(const plan_item *plan, size_t n, const options *o)
{
    double seconds = o->stress_seconds > 0 ? o->stress_seconds : 10;
    ct_run_config cfg = o->cfg;
    if (!o->cfg_given_duration) { /* 0.2 s rounds, shorter when the plan would not fit */
        double d = seconds / 1.5 / (double)(n ? n : 1);
        cfg.duration_s = d > 0.2 ? 0.2 : d < 0.02 ? 0.02 : d;
    }
    if (!o->cfg_given_warmup)
        cfg.warmup_s = 0;
    if (!o->cfg_given_repeat)
        cfg.repeat = 1;
    cfg.hw_counters = false;
    typedef struct tally {
        uint64_t rounds, ops, failures;
        bool dropped;
        char first[300];
    } tally;
    tally *t = calloc(n ? n : 1, sizeof *t);
    if (!t)
        return 1;
    bool progress = !o->quiet && isatty(2);
    uint64_t start = ct_now_ns(), end = start + (uint64_t)(seconds * 1e9);
    size_t live = n;
    /* Until the time is up, and at least one round of every point. */
    for (size_t i = 0, pass = 0; live > 0 && (ct_now_ns() < end || pass == 0);
         i = (i + 1) % n, pass += i == 0) {
        if (t[i].dropped)
            continue;
        ct_run_config c = cfg;
        c.params = plan[i].params;
        c.pin = plan[i].pin;
        ct_result res;
        char err[256] = "";
        if (ct_run_point(plan[i].w, plan[i].impl, plan[i].threads, &c, &res, err, sizeof err)) {
            fprintf(stderr, "contend: stress: %s %s x%u: %s\n", plan[i].w->name, plan[i].impl,
                    plan[i].threads, err);
            t[i].dropped = true;
            t[i].failures++;
            snprintf(t[i].first, sizeof t[i].first, "setup: %s", err);
            live--;
            continue;
        }
        t[i].rounds++;
        t[i].ops += res.ops_checked;
        if (!res.verified) {
            if (t[i].failures++ == 0)
                snprintf(t[i].first, sizeof t[i].first, "%s", res.verify_msg);
            fprintf(stderr, "%scontend: stress: FAILED %s %s x%u: %s\n", progress ? "\r\033[K" : "",
                    plan[i].w->name, plan[i].impl, plan[i].threads, res.verify_msg);
        }
        if (progress)
            fprintf(stderr, "\r\033[K[%.0f/%.0f s] %s %s x%u", (double)(ct_now_ns() - start) / 1e9,
                    seconds, plan[i].w->name, plan[i].impl, plan[i].threads);
    }
    if (progress)
        fputs("\r\033[K", stderr);
    uint64_t total_ops = 0, total_fail = 0;
    printf("%-14s %-20s %8s %8s %16s %9s\n", "bench", "impl", "threads", "rounds", "ops checked",
           "failures");
    for (size_t i = 0; i < n; i++) {
        char th[32];
        if (plan[i].params.producers)
            snprintf(th, sizeof th, "%u:%u", plan[i].params.producers, plan[i].params.consumers);
        else
            snprintf(th, sizeof th, "%u", plan[i].threads);
        printf("%-14s %-20s %8s %8llu %16llu %9llu\n", plan[i].w->name, plan[i].impl, th,
               (unsigned long long)t[i].rounds, (unsigned long long)t[i].ops,
               (unsigned long long)t[i].failures);
        if (t[i].failures)
            printf("  first failure: %s\n", t[i].first);
        total_ops += t[i].ops;
        total_fail += t[i].failures;
    }
    printf("stress: %.1f s, %llu operations checked, %llu failure(s)%s\n",
           (double)(ct_now_ns() - start) / 1e9, (unsigned long long)total_ops,
           (unsigned long long)total_fail, ct_chaos_seed() ? "" : " (normal build)");
    if (ct_chaos_seed())
        ct_chaos_report_seed("stress");
    free(t);
    return total_fail ? 1 : 0;
}

static int cmd_probe(int argc, char **argv)
{
    if (wants_help(argc, argv, 2)) {
        fputs("usage: contend probe [--format table|json] [--max-cpus N] [--budget S]\n\n"
              "Topology (hwloc), core-to-core one-way latency matrix (cache-line ping-pong),\n"
              "uncontended atomic cost, clock cost, hardware counter availability.\n"
              "  --max-cpus N   CPUs in the matrix, 2..1024 (default 64; a spread sample beyond)\n"
              "  --budget S     stop measuring pairs after S seconds (default 20)\n",
              stdout);
        return 0;
    }
    ct_format fmt = CT_FORMAT_TABLE;
    unsigned max_cpus = 64;
    double budget = 20;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--format") || !strcmp(a, "--max-cpus") || !strcmp(a, "--budget")) {
            if (!v)
                usage_error("%s needs a value", a);
            i++;
            if (!strcmp(a, "--format")) {
                if (ct_format_parse(v, &fmt) || fmt == CT_FORMAT_CSV)
                    usage_error("--format: '%s' is not table or json", v);
            } else if (!strcmp(a, "--max-cpus")) {
                max_cpus = (unsigned)parse_uint(a, v, 2, 1024, "a CPU count");
            } else {
                budget = parse_seconds(a, v, false);
            }
        } else {
            usage_error("probe: unknown option '%s' (see 'contend probe --help')", a);
        }
    }
    ct_probe p;
    if (ct_probe_run(&p, max_cpus, budget, false)) {
        fprintf(stderr, "contend: probe: out of memory\n");
        return 1;
    }
    if (fmt == CT_FORMAT_JSON) {
        fputs("{\n  \"machine\": ", stdout);
        ct_write_machine_json(stdout, 2);
        fputs(",\n  \"probe\": ", stdout);
        ct_probe_write_json(stdout, &p, true, 2);
        fputs("\n}\n", stdout);
    } else {
        const ct_topology_summary *t = ct_topology_init() == 0 ? ct_topology_summary_get() : NULL;
        if (t)
            printf("%s: %u package(s), %u NUMA node(s), %u cores, %u hardware threads "
                   "(%u per core)\ncaches: L1d %llu KiB, L2 %llu KiB, L3 %llu KiB x %u; "
                   "line %u bytes\n",
                   t->cpu_model, t->packages, t->numa_nodes, t->cores, t->pus, t->smt_per_core,
                   t->l1d_bytes / 1024, t->l2_bytes / 1024, t->l3_bytes / 1024, t->l3_count,
                   t->cache_line);
        const char *hw = ct_hw_unavailable_reason();
        printf("hardware counters: %s\n\n", hw ? hw : "available");
        ct_probe_write_table(stdout, &p);
    }
    ct_probe_free(&p);
    return 0;
}

static int cmd_lab(int argc, char **argv)
{
    if (argc < 3 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
        FILE *f = stdout;
        fputs("usage: contend lab NAME [options]   (contend lab NAME --help)\n\nlabs:\n", f);
        for (size_t i = 0; i < ct_lab_count(); i++)
            fprintf(f, "  %-14s %s\n", ct_lab_get(i)->name, ct_lab_get(i)->summary);
        return 0;
    }
    const ct_lab *lab = ct_lab_find(argv[2]);
    if (!lab)
        usage_error("lab: unknown lab '%s' (see 'contend lab')", argv[2]);
    if (wants_help(argc, argv, 3)) {
        lab->help();
        return 0;
    }
    return lab->main(argc - 2, argv + 2);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_main_help(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        print_main_help(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        puts("contend " CT_VERSION_STRING);
        return 0;
    }
    if (!strcmp(cmd, "list"))
        return cmd_list(argc, argv);
    if (!strcmp(cmd, "run"))
        return cmd_run(argc, argv, false);
    if (!strcmp(cmd, "stress"))
        return cmd_run(argc, argv, true);
    if (!strcmp(cmd, "suite"))
        return cmd_suite(argc, argv);
    if (!strcmp(cmd, "probe"))
        return cmd_probe(argc, argv);
    if (!strcmp(cmd, "lab"))
        return cmd_lab(argc, argv);
    usage_error("unknown command '%s' (try 'contend --help')", cmd);
}
