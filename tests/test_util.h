/* Small helpers shared by the tests: failure reporting that names the seed, scaled iteration
 * counts for sanitizer and chaos builds, and a thread launcher. */
#ifndef CONTEND_TEST_UTIL_H
#define CONTEND_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "contend/chaos.h"

/* Iterations for a stress loop: full in a normal build, /8 under sanitizers (5-15x slower),
 * /4 in the chaos build (every CT_CHAOS() point may sleep). */
static inline uint64_t ct_test_scale(uint64_t n)
{
#if defined(CT_SANITIZED)
    n /= 8;
#elif defined(CT_CHAOS_BUILD)
    n /= 4;
#endif
    return n ? n : 1;
}

#define CT_CHECK(cond, ...)                                                                    \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);         \
            fprintf(stderr, __VA_ARGS__);                                                    \
            fputc('\n', stderr);                                                             \
            ct_chaos_report_seed(__FILE__);                                                  \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

/* Runs fn(arg_i) on n threads started together (a barrier releases them) and joins them.
 * args is an array of n elements of size arg_size. Exits the test on failure to start. */
void ct_test_run_threads(unsigned n, void *(*fn)(void *), void *args, size_t arg_size);

/* Blocks until all n participants of the current ct_test_run_threads round arrive. */
void ct_test_start_barrier(void);

#endif
