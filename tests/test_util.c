#include "test_util.h"

#include <pthread.h>

static pthread_barrier_t start_barrier;

void ct_test_start_barrier(void) { pthread_barrier_wait(&start_barrier); }

void ct_test_run_threads(unsigned n, void *(*fn)(void *), void *args, size_t arg_size)
{
    pthread_t *tids = calloc(n, sizeof *tids);
    CT_CHECK(tids != NULL, "out of memory");
    CT_CHECK(pthread_barrier_init(&start_barrier, NULL, n) == 0, "barrier init");
    for (unsigned i = 0; i < n; i++) {
        void *arg = (char *)args + (size_t)i * arg_size;
        CT_CHECK(pthread_create(&tids[i], NULL, fn, arg) == 0, "pthread_create %u", i);
    }
    for (unsigned i = 0; i < n; i++)
        pthread_join(tids[i], NULL);
    pthread_barrier_destroy(&start_barrier);
    free(tids);
}
