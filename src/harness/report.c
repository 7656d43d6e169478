/* Result sinks: a table for people (fits 100 columns), CSV for spreadsheets, JSON for tools.
 * JSON is one document {"machine": {...}, "results": [...]}; a figure that could not be
 * measured is null, never a made-up zero. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "contend/harness.h"
#include "contend/wait.h"
#include "hw_counters.h"
#include "probe.h"
#include "topology.h"

#ifndef CT_VERSION
#define CT_VERSION "dev"
#endif
#ifndef CT_BUILD_TYPE
#define CT_BUILD_TYPE ""
#endif
#ifndef CT_SANITIZE
#define CT_SANITIZE ""
#endif

int ct_format_parse(const char *text, ct_format *out)
{
    static const char *const names[] = {"table", "csv", "json"};
    for (int i = 0; i < 3; i++)
        if (strcmp(text, names[i]) == 0) {
            *out = (ct_format)i;
            return 0;
        }
    return -1;
}

int ct_report_add(ct_report *r, const ct_result *res)
{
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        ct_result *p = realloc(r->results, cap * sizeof *p);
        if (!p)
            return -1;
        r->results = p;
        r->cap = cap;
    }
    r->results[r->count++] = *res;
    return 0;
}

static bool same_params(const ct_params *a, const ct_params *b)
{
    return a->n == b->n && ((!a->workload && !b->workload) ||
                            (a->workload && b->workload && !strcmp(a->workload, b->workload)));
}

/* Fixed-work results: work overhead T1 / Tserial from the 1-thread run of the same impl. */
static void finish_fixed_work(ct_report *r)
{
    for (size_t i = 0; i < r->count; i++) {
        ct_result *x = &r->results[i];
        if (!x->fixed_work)
            continue;
        x->work_overhead = -1;
        for (size_t k = 0; k < r->count; k++) {
            const ct_result *b = &r->results[k];
            if (b->fixed_work && b->threads == 1 && !strcmp(b->bench, x->bench) &&
                !strcmp(b->impl, x->impl) && same_params(&b->params, &x->params) &&
                b->serial_seconds > 0 && b->seconds > 0) {
                x->work_overhead = b->seconds / b->serial_seconds;
                break;
            }
        }
    }
}

void ct_report_finish(ct_report *r)
{
    finish_fixed_work(r);
    const ct_probe *probe = ct_probe_summary();
    double one_way = probe && probe->pairs_measured ? probe->one_way_median : -1;
    for (size_t i = 0; i < r->count; i++) {
        ct_result *x = &r->results[i];
        x->has_baseline = false;
        if (!x->baseline_impl)
            continue;
        for (size_t k = 0; k < r->count; k++) {
            const ct_result *b = &r->results[k];
            if (strcmp(b->bench, x->bench) || strcmp(b->impl, x->baseline_impl) ||
                b->threads != x->threads || b->params.cs_ns != x->params.cs_ns ||
                b->params.think_ns != x->params.think_ns ||
                b->params.producers != x->params.producers || b->params.mode != x->params.mode ||
                !same_params(&b->params, &x->params))
                continue;
            x->has_baseline = true;
            x->slowdown = x->ops_per_s > 0 ? b->ops_per_s / x->ops_per_s : -1;
            x->extra_transfers_per_op =
                one_way > 0 && x->cpu_ns_per_op >= 0 && b->cpu_ns_per_op >= 0
                    ? (x->cpu_ns_per_op - b->cpu_ns_per_op) / one_way
                    : -1;
            break;
        }
    }
}

void ct_report_free(ct_report *r)
{
    free(r->results);
    memset(r, 0, sizeof *r);
}

/* ---- JSON ----------------------------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_number(FILE *f, double v)
{
    if (!isfinite(v) || v < 0)
        fputs("null", f);
    else if (v == floor(v) && v < 1e15)
        fprintf(f, "%.0f", v);
    else
        fprintf(f, "%.6g", v);
}

static void read_first_line(const char *path, char *buf, size_t len)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(buf, (int)len, f))
        buf[strcspn(buf, "\n")] = 0;
    fclose(f);
}

static bool running_under_hypervisor(void)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[4096];
    bool yes = false;
    if (!f)
        return false;
    while (!yes && fgets(line, sizeof line, f))
        if (strncmp(line, "flags", 5) == 0 && strstr(line, " hypervisor"))
            yes = true;
    fclose(f);
    return yes;
}

void ct_write_machine_json(FILE *f, int indent)
{
    char pad[32];
    snprintf(pad, sizeof pad, "%*s", indent, "");
    struct utsname u;
    uname(&u);
    char host[256] = "";
    gethostname(host, sizeof host - 1);
    char governor[64];
    read_first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", governor,
                    sizeof governor);
    char date[32];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    const ct_topology_summary *t = ct_topology_init() == 0 ? ct_topology_summary_get() : NULL;

    fprintf(f, "{\n%s  \"hostname\": ", pad);
    json_string(f, host);
    fprintf(f, ",\n%s  \"date\": \"%s\",\n%s  \"os\": ", pad, date, pad);
    char os[600];
    snprintf(os, sizeof os, "%s %s", u.sysname, u.release);
    json_string(f, os);
    fprintf(f, ",\n%s  \"arch\": ", pad);
    json_string(f, u.machine);
    fprintf(f, ",\n%s  \"cpu_model\": ", pad);
    json_string(f, t ? t->cpu_model : "");
    fprintf(f, ",\n%s  \"cpus_online\": %ld,\n", pad, sysconf(_SC_NPROCESSORS_ONLN));
    if (t) {
        fprintf(f, "%s  \"packages\": %u, \"numa_nodes\": %u, \"cores\": %u, \"pus\": %u,"
                   " \"smt_per_core\": %u,\n",
                pad, t->packages, t->numa_nodes, t->cores, t->pus, t->smt_per_core);
        fprintf(f, "%s  \"cache_line\": %u, \"l1d_bytes\": %llu, \"l2_bytes\": %llu,"
                   " \"l3_bytes\": %llu, \"l3_count\": %u,\n",
                pad, t->cache_line, t->l1d_bytes, t->l2_bytes, t->l3_bytes, t->l3_count);
    }
    fprintf(f, "%s  \"hypervisor\": %s,\n%s  \"cpufreq_governor\": ", pad,
            running_under_hypervisor() ? "true" : "false", pad);
    if (governor[0])
        json_string(f, governor);
    else
        fputs("null", f);
    const char *hw = ct_hw_unavailable_reason();
    fprintf(f, ",\n%s  \"hw_counters\": ", pad);
    if (hw)
        json_string(f, hw);
    else
        fputs("\"available\"", f);
    fprintf(f, ",\n%s  \"park_cost_ns\": %llu,\n%s  \"work_iters_per_ns\": %.4f,\n", pad,
            (unsigned long long)ct_wait_park_cost_ns(), pad, ct_work_iters_per_ns());
    fprintf(f, "%s  \"contend_version\": \"%s\", \"build_type\": \"%s\", \"sanitizer\": \"%s\","
               " \"chaos\": %s,\n",
            pad, CT_VERSION, CT_BUILD_TYPE, CT_SANITIZE,
#ifdef CT_CHAOS_BUILD
            "true"
#else
            "false"
#endif
    );
    const ct_probe *probe = ct_probe_summary();
    fprintf(f, "%s  \"probe\": ", pad);
    if (probe)
        ct_probe_write_json(f, probe, false, indent + 2);
    else
        fputs("null", f);
    fprintf(f, ",\n%s  \"compiler\": ", pad);
#if defined(__clang__)
    json_string(f, "clang " __clang_version__);
#else
    json_string(f, "gcc " __VERSION__);
#endif
    fprintf(f, "\n%s}", pad);
}

static void json_result(FILE *f, const ct_result *r)
{
    fputs("    {\"bench\": ", f);
    json_string(f, r->bench);
    fputs(", \"impl\": ", f);
    json_string(f, r->impl);
    fprintf(f, ", \"threads\": %u,\n     \"params\": {\"cs_ns\": %llu, \"think_ns\": %llu,"
               " \"duration_s\": %g, \"warmup_s\": %g, \"repeat\": %u, \"pin\": \"%s\"",
            r->threads, (unsigned long long)r->params.cs_ns,
            (unsigned long long)r->params.think_ns, r->duration_s, r->warmup_s, r->repeat,
            ct_pin_mode_name((ct_pin_mode)r->pin));
    if (r->params.producers)
        fprintf(f, ",\n                \"producers\": %u, \"consumers\": %u, \"mode\": \"%s\","
                   " \"capacity\": %llu",
                r->params.producers, r->params.consumers,
                ct_queue_mode_name(r->params.mode),
                (unsigned long long)r->params.capacity);
    if (r->fixed_work) {
        fputs(",\n                \"workload\": ", f);
        json_string(f, r->params.workload ? r->params.workload : "");
        fprintf(f, ", \"n\": %llu", (unsigned long long)r->params.n);
    }
    fputs("},\n", f);
    if (r->fixed_work) {
        fputs("     \"seconds\": ", f);
        json_number(f, r->seconds);
        fputs(", \"seconds_min\": ", f);
        json_number(f, r->seconds_min);
        fputs(", \"seconds_max\": ", f);
        json_number(f, r->seconds_max);
        fputs(", \"serial_seconds\": ", f);
        json_number(f, r->serial_seconds);
        fputs(", \"speedup\": ", f);
        json_number(f, r->speedup);
        fputs(", \"work_overhead\": ", f);
        json_number(f, r->work_overhead);
        fputs(", \"cpu_util\": ", f);
        json_number(f, r->cpu_util);
        fputs(",\n     \"extra\": ", f);
        fputs(r->extra_json[0] ? r->extra_json : "null", f);
        fputs(",\n", f);
    }
    fputs("     \"ops_per_s\": ", f);
    json_number(f, r->ops_per_s);
    fputs(", \"ops_per_s_min\": ", f);
    json_number(f, r->ops_per_s_min);
    fputs(", \"ops_per_s_max\": ", f);
    json_number(f, r->ops_per_s_max);
    fputs(", \"ops_per_s_runs\": [", f);
    for (unsigned i = 0; i < r->repeat; i++) {
        if (i)
            fputs(", ", f);
        json_number(f, r->ops_per_s_runs[i]);
    }
    fputs("],\n     \"latency_ns\": ", f);
    if (r->latency.samples) {
        fprintf(f, "{\"p50\": %llu, \"p90\": %llu, \"p99\": %llu, \"p999\": %llu, \"max\": %llu,"
                   " \"mean\": %.1f, \"stdev\": %.1f, \"samples\": %llu, \"sample_period\": %llu,"
                   " \"spans\": ",
                (unsigned long long)r->latency.p50, (unsigned long long)r->latency.p90,
                (unsigned long long)r->latency.p99, (unsigned long long)r->latency.p999,
                (unsigned long long)r->latency.max, r->latency.mean, r->latency.stdev,
                (unsigned long long)r->latency.samples, (unsigned long long)r->sample_period);
        json_string(f, r->latency_note);
        fputs("}", f);
    } else {
        fputs("null", f);
    }
    fputs(",\n     \"cpu_ns_per_op\": ", f);
    json_number(f, r->cpu_ns_per_op);
    fprintf(f, ", \"ctx_voluntary\": %ld, \"ctx_involuntary\": %ld,\n", r->ctx_voluntary,
            r->ctx_involuntary);
    if (r->fixed_work) /* the runtime owns its threads: no per-thread op counts */
        fputs("     \"fairness\": null,\n", f);
    else
        fprintf(f, "     \"fairness\": {\"jain\": %.4f, \"min_share\": %.4f,"
                   " \"max_share\": %.4f},\n",
                r->jain, r->min_share, r->max_share);
    fputs("     \"hw\": ", f);
    if (r->hw_valid) {
        fprintf(f, "{\"cycles_per_op\": %.2f, \"instructions_per_op\": %.2f,"
                   " \"cache_misses_per_op\": %.4f}",
                r->hw_cycles_per_op, r->hw_instructions_per_op, r->hw_cache_misses_per_op);
    } else {
        fputs("null, \"hw_reason\": ", f);
        json_string(f, r->hw_reason ? r->hw_reason : "unknown");
    }
    fputs(",\n     \"baseline\": ", f);
    if (r->has_baseline) {
        fputs("{\"impl\": ", f);
        json_string(f, r->baseline_impl);
        fputs(", \"slowdown\": ", f);
        json_number(f, r->slowdown);
        fputs(", \"extra_line_transfers_per_op\": ", f);
        if (r->extra_transfers_per_op == -1)
            fputs("null", f);
        else
            fprintf(f, "%.3f", r->extra_transfers_per_op);
        fputs("}", f);
    } else {
        fputs("null", f);
    }
    if (r->nextra) {
        fputs(",\n     \"extra\": {", f);
        for (size_t i = 0; i < r->nextra; i++) {
            if (i)
                fputs(", ", f);
            json_string(f, r->extra[i].name);
            fputs(": ", f);
            json_number(f, r->extra[i].value);
        }
        fputs("}", f);
    }
    fprintf(f, ",\n     \"verified\": %s", r->verified ? "true" : "false");
    fprintf(f, ",\n     \"ops_checked\": %llu", (unsigned long long)r->ops_checked);
    if (!r->verified) {
        fputs(", \"verify_error\": ", f);
        json_string(f, r->verify_msg);
    }
    if (r->pin_error)
        fprintf(f, ", \"pin_error\": \"%s\"", strerror(r->pin_error));
    fputs("}", f);
}

/* ---- table and CSV -------------------------------------------------------------------- */

static void fmt_count(char *buf, size_t len, double v)
{
    if (!isfinite(v) || v < 0)
        snprintf(buf, len, "-");
    else if (v >= 1e9)
        snprintf(buf, len, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, len, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, len, "%.1fk", v / 1e3);
    else
        snprintf(buf, len, "%.0f", v);
}

static void fmt_ns(char *buf, size_t len, double ns, bool have)
{
    if (!have || !isfinite(ns) || ns < 0)
        snprintf(buf, len, "-");
    else if (ns < 10000)
        snprintf(buf, len, "%.0f", ns);
    else if (ns < 10e6)
        snprintf(buf, len, "%.1fus", ns / 1e3);
    else if (ns < 10e9)
        snprintf(buf, len, "%.1fms", ns / 1e6);
    else
        snprintf(buf, len, "%.1fs", ns / 1e9);
}

void ct_report_write_table_header(FILE *f)
{
    fprintf(f, "%-15s %5s %8s %6s %7s %7s %7s %8s %9s %8s %5s %4s\n", "impl", "thr", "ops/s",
            "+-%", "p50ns", "p99ns", "p99.9ns", "max ns", "cpu ns/op", "invol-cs", "jain",
            "ok");
}

void ct_report_write_table_row(FILE *f, const ct_result *r)
{
    char ops[16], p50[16], p99[16], p999[16], mx[16], cpu[16];
    bool lat = r->latency.samples > 0;
    fmt_count(ops, sizeof ops, r->ops_per_s);
    fmt_ns(p50, sizeof p50, (double)r->latency.p50, lat);
    fmt_ns(p99, sizeof p99, (double)r->latency.p99, lat);
    fmt_ns(p999, sizeof p999, (double)r->latency.p999, lat);
    fmt_ns(mx, sizeof mx, (double)r->latency.max, lat);
    if (r->cpu_ns_per_op >= 0)
        snprintf(cpu, sizeof cpu, "%.1f", r->cpu_ns_per_op);
    else
        snprintf(cpu, sizeof cpu, "-");
    double spread = r->ops_per_s > 0
                        ? 100.0 * (r->ops_per_s_max - r->ops_per_s_min) / (2 * r->ops_per_s)
                        : 0;
    char thr[16];
    if (r->params.producers)
        snprintf(thr, sizeof thr, "%u:%u", r->params.producers, r->params.consumers);
    else
        snprintf(thr, sizeof thr, "%u", r->threads);
    /* A name longer than the column (moodycamel-blocking) gets a line of its own, so that the
     * row stays aligned and within 100 columns. */
    const char *name = r->impl;
    if (strlen(name) > 15) {
        fprintf(f, "%s\n", name);
        name = "";
    }
    fprintf(f, "%-15.15s %5s %8s %6.1f %7s %7s %7s %8s %9s %8ld %5.2f %4s\n", name, thr,
            ops, spread, p50, p99, p999, mx, cpu, r->ctx_involuntary, r->jain,
            r->verified ? "ok" : "FAIL");
}

static bool same_group(const ct_result *a, const ct_result *b)
{
    return strcmp(a->bench, b->bench) == 0 && same_params(&a->params, &b->params) &&
           a->params.cs_ns == b->params.cs_ns &&
           a->params.think_ns == b->params.think_ns && a->params.mode == b->params.mode &&
           a->params.capacity == b->params.capacity && a->pin == b->pin;
}

static void fixed_work_header(FILE *f)
{
    fprintf(f, "%-15s %5s %9s %9s %7s %8s %6s %8s %8s %4s\n", "impl", "thr", "items/s", "seconds",
            "+-%", "speedup", "T1/Ts", "cpu%", "p99 ns", "ok");
}

static void fixed_work_row(FILE *f, const ct_result *r)
{
    char ops[16], sp[16], ov[16], p99[16];
    fmt_count(ops, sizeof ops, r->ops_per_s);
    snprintf(sp, sizeof sp, r->speedup > 0 ? "%.2fx" : "-", r->speedup);
    snprintf(ov, sizeof ov, r->work_overhead > 0 ? "%.2f" : "-", r->work_overhead);
    fmt_ns(p99, sizeof p99, (double)r->latency.p99, r->latency.samples > 0);
    double spread = r->seconds > 0 ? 100.0 * (r->seconds_max - r->seconds_min) / (2 * r->seconds)
                                   : 0;
    fprintf(f, "%-15.15s %5u %9s %9.4g %7.1f %8s %6s %8.1f %8s %4s\n", r->impl, r->threads, ops,
            r->seconds, spread, sp, ov, 100 * r->cpu_util, p99, r->verified ? "ok" : "FAIL");
}

static void table_group_heading(FILE *f, const ct_result *r)
{
    if (r->fixed_work)
        fprintf(f, "\n%s  workload=%s n=%llu  (fixed work; seconds: median of %u runs;"
                   " T1/Ts: work overhead)\n",
                r->bench, r->params.workload ? r->params.workload : "-",
                (unsigned long long)r->params.n, r->repeat);
    else if (r->params.producers)
        fprintf(f, "\n%s  mode=%s capacity=%llu pin=%s  (items/s median of %u x %gs; thr ="
                   " producers:consumers; latency push to pop, 1 item in 4096)\n",
                r->bench, ct_queue_mode_name(r->params.mode),
                (unsigned long long)r->params.capacity, ct_pin_mode_name((ct_pin_mode)r->pin),
                r->repeat, r->duration_s);
    else
        fprintf(f, "\n%s  cs=%lluns think=%lluns  (ops/s median of %u x %gs; latency: 1 op in"
                   " %llu timed)\n",
                r->bench, (unsigned long long)r->params.cs_ns,
                (unsigned long long)r->params.think_ns, r->repeat, r->duration_s,
                (unsigned long long)r->sample_period);
}

void ct_report_write(FILE *f, const ct_report *rep, ct_format fmt)
{
    if (fmt == CT_FORMAT_JSON) {
        fputs("{\n  \"machine\": ", f);
        ct_write_machine_json(f, 2);
        fputs(",\n  \"results\": [\n", f);
        for (size_t i = 0; i < rep->count; i++) {
            json_result(f, &rep->results[i]);
            fputs(i + 1 < rep->count ? ",\n" : "\n", f);
        }
        fputs("  ]\n}\n", f);
    } else if (fmt == CT_FORMAT_CSV) {
        fputs("bench,impl,threads,cs_ns,think_ns,producers,consumers,mode,capacity,duration_s,repeat,ops_per_s,ops_per_s_min,"
              "ops_per_s_max,p50_ns,p90_ns,p99_ns,p999_ns,max_ns,mean_ns,stdev_ns,"
              "latency_samples,cpu_ns_per_op,ctx_voluntary,ctx_involuntary,jain,min_share,"
              "max_share,cycles_per_op,instructions_per_op,cache_misses_per_op,baseline,slowdown,"
              "extra_line_transfers_per_op,verified,workload,n,seconds,speedup,work_overhead,"
              "cpu_util\n",
              f);
        for (size_t i = 0; i < rep->count; i++) {
            const ct_result *r = &rep->results[i];
            fprintf(f, "%s,%s,%u,%llu,%llu,%u,%u,%s,%llu,%g,%u,%.1f,%.1f,%.1f,%llu,%llu,%llu,%llu,"
                       "%llu,%.1f,%.1f,%llu,%.2f,%ld,%ld,%.4f,%.4f,%.4f,",
                    r->bench, r->impl, r->threads, (unsigned long long)r->params.cs_ns,
                    (unsigned long long)r->params.think_ns, r->params.producers,
                    r->params.consumers,
                    r->params.producers ? (ct_queue_mode_name(r->params.mode))
                                        : "",
                    (unsigned long long)r->params.capacity, r->duration_s, r->repeat,
                    r->ops_per_s, r->ops_per_s_min, r->ops_per_s_max,
                    (unsigned long long)r->latency.p50, (unsigned long long)r->latency.p90,
                    (unsigned long long)r->latency.p99, (unsigned long long)r->latency.p999,
                    (unsigned long long)r->latency.max, r->latency.mean, r->latency.stdev,
                    (unsigned long long)r->latency.samples, r->cpu_ns_per_op, r->ctx_voluntary,
                    r->ctx_involuntary, r->jain, r->min_share, r->max_share);
            if (r->hw_valid)
                fprintf(f, "%.2f,%.2f,%.4f,", r->hw_cycles_per_op, r->hw_instructions_per_op,
                        r->hw_cache_misses_per_op);
            else
                fputs(",,,", f);
            if (r->has_baseline)
                fprintf(f, "%s,%.3f,%.3f,", r->baseline_impl, r->slowdown,
                        r->extra_transfers_per_op);
            else
                fputs(",,,", f);
            fputs(r->verified ? "true," : "false,", f);
            if (r->fixed_work)
                fprintf(f, "%s,%llu,%.6f,%.3f,%.3f,%.4f\n",
                        r->params.workload ? r->params.workload : "",
                        (unsigned long long)r->params.n, r->seconds, r->speedup,
                        r->work_overhead, r->cpu_util);
            else
                fputs(",,,,,\n", f);
        }
    } else {
        for (size_t i = 0; i < rep->count; i++) {
            const ct_result *r = &rep->results[i];
            if (i == 0 || !same_group(r, &rep->results[i - 1])) {
                table_group_heading(f, r);
                if (r->fixed_work)
                    fixed_work_header(f);
                else
                    ct_report_write_table_header(f);
            }
            if (r->fixed_work)
                fixed_work_row(f, r);
            else
                ct_report_write_table_row(f, r);
        }
        bool heading = false;
        for (size_t i = 0; i < rep->count; i++) {
            const ct_result *r = &rep->results[i];
            if (!r->has_baseline)
                continue;
            if (!heading) {
                fprintf(f, "\nagainst the baseline (same run): slowdown, and extra line transfers"
                           " per op = extra CPU ns per op / one-way transfer ns\n");
                heading = true;
            }
            fprintf(f, "  %-14s x%-3u cs=%llu think=%llu  %6.2fx slower than %-12s", r->impl,
                    r->threads, (unsigned long long)r->params.cs_ns,
                    (unsigned long long)r->params.think_ns, r->slowdown, r->baseline_impl);
            if (r->extra_transfers_per_op != -1)
                fprintf(f, " %+6.2f transfers/op\n", r->extra_transfers_per_op);
            else
                fputs("\n", f);
        }
        for (size_t i = 0; i < rep->count; i++)
            if (!rep->results[i].verified)
                fprintf(f, "VERIFY FAILED: %s %s x%u: %s\n", rep->results[i].bench,
                        rep->results[i].impl, rep->results[i].threads,
                        rep->results[i].verify_msg);
    }
}
