// ctest-timeout: 180
/* The stalled-producer lab's core (bench/lab_stalled_producer.h), short runs, correctness only:
 * every item popped exactly once and in order per producer, stalls happened, and a consumer
 * waited for the stalled cell: with mpmc no consumer can pass the claimed-but-unpublished cell,
 * and with the mutex queue nobody passes the held lock, so some pop call or gap between items
 * lasted at least the stall (less a small margin for the consumers' own scheduling). Never
 * speed. */
#include <stdio.h>
#include <string.h>

#include "lab_stalled_producer.h"
#include "test_util.h"

static ct_stall_result r;

int main(void)
{
    const char *queues[] = {"mpmc", "mutex"};
    for (int qi = 0; qi < 2; qi++) {
        for (int b = 0; b < 2; b++) {
            ct_stall_config c = {.queue = queues[qi], .producers = 2, .consumers = 2,
                                 .blocking = b, .stall_ms = 20, .every_ms = 30,
                                 .seconds = 0.3, .capacity = 8};
            CT_CHECK(ct_stall_run(&c, &r) == 0, "%s: run failed", c.queue);
            CT_CHECK(r.verified, "%s %s: %s", c.queue, b ? "blocking" : "try", r.failure);
            CT_CHECK(r.stalls >= 1, "%s: no stall happened", c.queue);
            CT_CHECK(r.stall_ms_mean >= c.stall_ms, "%s: stall %.2f ms", c.queue,
                     r.stall_ms_mean);
            uint64_t waited = 0;
            for (unsigned i = 0; i < r.consumers; i++) {
                if (r.consumer[i].max_gap_ns > waited)
                    waited = r.consumer[i].max_gap_ns;
                if (r.consumer[i].max_call_ns > waited)
                    waited = r.consumer[i].max_call_ns;
            }
            CT_CHECK(waited >= (uint64_t)(c.stall_ms * 0.9e6),
                     "%s %s: longest consumer wait %.2f ms < stall %.1f ms", c.queue,
                     b ? "blocking" : "try", (double)waited / 1e6, c.stall_ms);
            printf("%s %s: %u stalls, %llu items exactly once, longest consumer wait %.2f ms\n",
                   c.queue, b ? "blocking" : "try", r.stalls, (unsigned long long)r.items,
                   (double)waited / 1e6);
        }
    }
    ct_stall_config bad = {.queue = "nosuch", .producers = 1, .consumers = 1, .stall_ms = 1,
                           .every_ms = 1, .seconds = 0.1, .capacity = 4};
    CT_CHECK(ct_stall_run(&bad, &r) == -1, "unknown queue accepted");
    bad.queue = "mpmc";
    bad.producers = 0;
    CT_CHECK(ct_stall_run(&bad, &r) == -1, "0 producers accepted");
    return 0;
}
