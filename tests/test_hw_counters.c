// ctest-label: quick
/* Hardware counters: either they work, and a loop of a million dependent adds retires at least
 * a million instructions in each of two windows (the second must not carry the first's
 * counts), or they do not, and then the reason is a line naming the call and the errno and
 * ct_hw_open fails cleanly, leaving every fd at -1. Cycles are only checked to be nonzero:
 * frequency and SMT make them a measurement, not an invariant. Which path ran is printed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hw_counters.h"
#include "test_util.h"

static void expect_closed(const ct_hw_session *s, const char *what)
{
    for (int i = 0; i < CT_HW_NCOUNTERS; i++)
        CT_CHECK(s->fd[i] == -1, "%s: fd[%d] = %d", what, i, s->fd[i]);
    CT_CHECK(!ct_hw_is_open(s), "%s: reported open", what);
}

static void test_unavailable(const char *reason)
{
    printf("test_hw_counters: unavailable: %s\n", reason);
    CT_CHECK(reason[0] != '\0', "empty reason");
    CT_CHECK(strstr(reason, "perf_event_open") != NULL, "reason does not name the call: %s",
             reason);
    CT_CHECK(ct_hw_unavailable_reason() == reason, "probe not cached");

    ct_hw_session s;
    memset(&s, 0x5a, sizeof s);
    errno = 0;
    CT_CHECK(ct_hw_open(&s) == -1, "open succeeded although unavailable");
    CT_CHECK(errno != 0, "open failed without errno");
    expect_closed(&s, "failed open");

    /* Every call on a closed session is a harmless no-op; reads give zeros. */
    ct_hw_start(&s);
    ct_hw_stop(&s);
    ct_hw_values v;
    memset(&v, 0xff, sizeof v);
    ct_hw_read(&s, &v);
    for (int i = 0; i < CT_HW_NCOUNTERS; i++)
        CT_CHECK(v.value[i] == 0, "closed session read %d nonzero", i);
    ct_hw_close(&s);
    expect_closed(&s, "closed");
}

static void test_available(void)
{
    printf("test_hw_counters: available\n");
    ct_hw_session s;
    CT_CHECK(ct_hw_open(&s) == 0, "open: %s", strerror(errno));
    CT_CHECK(ct_hw_is_open(&s), "open session reported closed");

    const uint64_t n = 1000000;
    uint64_t first = 0;
    for (int round = 0; round < 2; round++) { /* the second window must not inherit the first */
        ct_hw_start(&s);
        uint64_t acc = 0;
        for (uint64_t i = 0; i < n; i++) {
            acc += i;
            __asm__ __volatile__("" : "+r"(acc)); /* keep every add, in order */
        }
        ct_hw_stop(&s);
        ct_hw_values v;
        ct_hw_read(&s, &v);
        printf("test_hw_counters: round %d: cycles %llu instructions %llu cache-misses %llu "
               "(acc %llu)\n",
               round, (unsigned long long)v.value[CT_HW_CYCLES],
               (unsigned long long)v.value[CT_HW_INSTRUCTIONS],
               (unsigned long long)v.value[CT_HW_CACHE_MISSES], (unsigned long long)acc);
        CT_CHECK(v.value[CT_HW_INSTRUCTIONS] >= n, "instructions %llu < %llu",
                 (unsigned long long)v.value[CT_HW_INSTRUCTIONS], (unsigned long long)n);
        CT_CHECK(v.value[CT_HW_CYCLES] > 0, "no cycles counted");
        if (round == 0)
            first = v.value[CT_HW_INSTRUCTIONS];
        else
            CT_CHECK(v.value[CT_HW_INSTRUCTIONS] <= first + first / 2,
                     "second window %llu vs first %llu: counts carried over",
                     (unsigned long long)v.value[CT_HW_INSTRUCTIONS], (unsigned long long)first);

        /* Stopped: a second read sees the same counts. */
        ct_hw_values again;
        ct_hw_read(&s, &again);
        CT_CHECK(again.value[CT_HW_INSTRUCTIONS] == v.value[CT_HW_INSTRUCTIONS],
                 "counting after stop");
    }
    ct_hw_close(&s);
    expect_closed(&s, "closed");
}

int main(void)
{
    const char *reason = ct_hw_unavailable_reason();
    if (reason)
        test_unavailable(reason);
    else
        test_available();
    ct_hw_read(NULL, NULL); /* never a crash */
    CT_CHECK(ct_hw_open(NULL) == -1, "open(NULL)");
    printf("test_hw_counters: ok\n");
    return 0;
}
