/* The yardstick for the harness's own overhead: a bare relaxed fetch_add loop on one thread,
 * timed with two clock reads, nothing else. `contend run counter --impl atomic --threads 1`
 * should come within 5% of it. Usage: bare-atomic [seconds] (default 1). */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static _Atomic uint64_t counter;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 1.0;
    if (!(seconds > 0 && seconds <= 3600)) {
        fprintf(stderr, "bare-atomic: '%s' is not a positive number of seconds\n", argv[1]);
        return 2;
    }
    uint64_t budget = (uint64_t)(seconds * 1e9), ops = 0, t0 = now_ns(), t;
    /* Check the clock every 4096 increments: its cost is then negligible. */
    do {
        for (int i = 0; i < 4096; i++)
            atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
        ops += 4096;
        t = now_ns();
    } while (t - t0 < budget);
    if (atomic_load(&counter) != ops) {
        fprintf(stderr, "bare-atomic: counter %llu != %llu\n",
                (unsigned long long)atomic_load(&counter), (unsigned long long)ops);
        return 1;
    }
    printf("bare-atomic: %.0f ops/s (%.2f ns/op)\n", (double)ops * 1e9 / (double)(t - t0),
           (double)(t - t0) / (double)ops);
    return 0;
}
