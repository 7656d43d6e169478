/* Per-thread hardware counters (cycles, instructions, cache misses) via perf_event_open(2).
 *
 * Each counter is its own event (no group): a group is scheduled all-or-nothing, and three
 * independent events let the kernel multiplex them separately when the PMU is overcommitted
 * (an NMI watchdog or another perf user holding counters). Multiplexing is corrected with the
 * usual estimate value * time_enabled / time_running, where the times are those of the
 * measured window only: PERF_EVENT_IOC_RESET zeroes the count but, as the man page warns,
 * never the two times, so ct_hw_start records them (session->base) and ct_hw_read scales by
 * the deltas. A counter that never ran in the window (time_running delta 0) reads 0.
 *
 * The probe (once per process) opens all three events together, as a session will, so that a
 * PMU lacking one event (cache misses on some Arm cores) is reported by name up front instead
 * of failing every thread's open later. It also chooses the mode: user+kernel counting
 * (exclude_kernel = 0) when the kernel allows it, else user-only after EACCES/EPERM
 * (perf_event_paranoid >= 2), the same for every counter and thread. exclude_hv
 * is always set (hypervisor time is not the thread's work, and most guests cannot count it).
 * Events are opened disabled, for the calling thread only (pid 0, cpu -1, no inherit), so the
 * counts are the measuring thread's own and follow it across CPUs. Nothing here aborts: every
 * failure leaves the session closed (all fds -1) and returns -1 with errno.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "hw_counters.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
    uint64_t config;
    const char *name;
} events[CT_HW_NCOUNTERS] = {
    [CT_HW_CYCLES] = {PERF_COUNT_HW_CPU_CYCLES, "cycles"},
    [CT_HW_INSTRUCTIONS] = {PERF_COUNT_HW_INSTRUCTIONS, "instructions"},
    [CT_HW_CACHE_MISSES] = {PERF_COUNT_HW_CACHE_MISSES, "cache-misses"},
};

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static const char *probe_reason; /* NULL: counting works */
static int probe_errno;
static int probe_exclude_kernel;
static char probe_text[256];

static int open_event(uint64_t config, int exclude_kernel)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_HARDWARE;
    attr.config = config;
    attr.disabled = 1;
    attr.exclude_hv = 1;
    attr.exclude_kernel = exclude_kernel ? 1u : 0u;
    attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
    long fd = syscall(SYS_perf_event_open, &attr, 0 /* this thread */, -1 /* any cpu */,
                      -1 /* no group */, PERF_FLAG_FD_CLOEXEC);
    return (int)fd;
}

static const char *errno_name(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENODEV: return "ENODEV";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case EBUSY: return "EBUSY";
    case E2BIG: return "E2BIG";
    default: return NULL;
    }
}

static int read_paranoid(void)
{
    FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
    if (!f)
        return -100;
    int level = -100;
    if (fscanf(f, "%d", &level) != 1)
        level = -100;
    fclose(f);
    return level;
}

/* Opens all three events at once, as a session will: the first failure names its event. */
static void probe(void)
{
    int fds[CT_HW_NCOUNTERS];
    int failed = -1, e = 0;
    fds[0] = open_event(events[0].config, 0);
    if (fds[0] < 0 && (errno == EACCES || errno == EPERM)) {
        probe_exclude_kernel = 1;
        fds[0] = open_event(events[0].config, 1);
    }
    if (fds[0] < 0) {
        failed = 0;
        e = errno;
    }
    for (int i = 1; i < CT_HW_NCOUNTERS; i++) {
        fds[i] = failed < 0 ? open_event(events[i].config, probe_exclude_kernel) : -1;
        if (failed < 0 && fds[i] < 0) {
            failed = i;
            e = errno;
        }
    }
    for (int i = 0; i < CT_HW_NCOUNTERS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (failed < 0)
        return;

    probe_errno = e;
    const char *name = errno_name(e);
    char namebuf[32];
    if (!name) {
        snprintf(namebuf, sizeof namebuf, "errno %d", e);
        name = namebuf;
    }
    char cause[160];
    switch (e) {
    case ENOENT:
    case EOPNOTSUPP:
    case ENODEV:
        snprintf(cause, sizeof cause, "%s",
                 failed == 0 ? "no PMU exposed (virtual machine?)"
                             : "this CPU's PMU does not provide the event");
        break;
    case EACCES:
    case EPERM: {
        int level = read_paranoid();
        if (level == -100)
            snprintf(cause, sizeof cause,
                     "denied, kernel.perf_event_paranoid unreadable (container or LSM policy?)");
        else if (level >= 3)
            snprintf(cause, sizeof cause, "kernel.perf_event_paranoid=%d forbids it", level);
        else
            snprintf(cause, sizeof cause,
                     "denied although kernel.perf_event_paranoid=%d (seccomp, container or LSM "
                     "policy?)",
                     level);
        break;
    }
    case ENOSYS:
        snprintf(cause, sizeof cause, "kernel built without perf events");
        break;
    case EMFILE:
    case ENFILE:
        snprintf(cause, sizeof cause, "out of file descriptors");
        break;
    default:
        snprintf(cause, sizeof cause, "%s", strerror(e));
        break;
    }
    snprintf(probe_text, sizeof probe_text, "perf_event_open(%s): %s: %s", events[failed].name,
             name, cause);
    probe_reason = probe_text;
}

const char *ct_hw_unavailable_reason(void)
{
    pthread_once(&probe_once, probe);
    return probe_reason;
}

static void close_all(ct_hw_session *s)
{
    for (int i = 0; i < CT_HW_NCOUNTERS; i++) {
        if (s->fd[i] >= 0)
            close(s->fd[i]);
        s->fd[i] = -1;
    }
}

int ct_hw_open(ct_hw_session *s)
{
    if (!s) {
        errno = EINVAL;
        return -1;
    }
    memset(s, 0, sizeof *s);
    for (int i = 0; i < CT_HW_NCOUNTERS; i++)
        s->fd[i] = -1;
    if (ct_hw_unavailable_reason()) {
        errno = probe_errno;
        return -1;
    }
    for (int i = 0; i < CT_HW_NCOUNTERS; i++) {
        s->fd[i] = open_event(events[i].config, probe_exclude_kernel);
        if (s->fd[i] < 0) {
            int e = errno;
            close_all(s);
            errno = e;
            return -1;
        }
    }
    return 0;
}

/* One counter's {value, time_enabled, time_running}; false (and zeros) when the read fails. */
static bool read_one(int fd, uint64_t out[3])
{
    uint64_t buf[3] = {0, 0, 0};
    bool ok = fd >= 0 && read(fd, buf, sizeof buf) == (ssize_t)sizeof buf;
    if (!ok)
        buf[0] = buf[1] = buf[2] = 0;
    memcpy(out, buf, sizeof buf);
    return ok;
}

void ct_hw_start(ct_hw_session *s)
{
    if (!s || !ct_hw_is_open(s))
        return;
    /* Disabled here, so the times read now stay valid until the enable. */
    for (int i = 0; i < CT_HW_NCOUNTERS; i++) {
        ioctl(s->fd[i], PERF_EVENT_IOC_DISABLE, 0);
        ioctl(s->fd[i], PERF_EVENT_IOC_RESET, 0);
        read_one(s->fd[i], s->base[i]);
    }
    for (int i = 0; i < CT_HW_NCOUNTERS; i++)
        ioctl(s->fd[i], PERF_EVENT_IOC_ENABLE, 0);
}

void ct_hw_stop(ct_hw_session *s)
{
    if (!s || !ct_hw_is_open(s))
        return;
    for (int i = 0; i < CT_HW_NCOUNTERS; i++)
        ioctl(s->fd[i], PERF_EVENT_IOC_DISABLE, 0);
}

void ct_hw_read(const ct_hw_session *s, ct_hw_values *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!s || !ct_hw_is_open(s))
        return;
    for (int i = 0; i < CT_HW_NCOUNTERS; i++) {
        uint64_t now[3];
        if (!read_one(s->fd[i], now) || now[1] < s->base[i][1] || now[2] < s->base[i][2])
            continue; /* unreadable: report 0 rather than a wrapped difference */
        uint64_t value = now[0] - s->base[i][0];
        uint64_t enabled = now[1] - s->base[i][1];
        uint64_t running = now[2] - s->base[i][2];
        if (running == 0)
            value = 0;
        else if (running < enabled)
            value = (uint64_t)((long double)value * (long double)enabled / (long double)running);
        out->value[i] = value;
    }
}

void ct_hw_close(ct_hw_session *s)
{
    if (s)
        close_all(s);
}
