/* Must NOT compile: head and tail are on adjacent 64-byte lines of one 128-byte prefetch
 * pair, which the adjacent-line prefetcher can still couple. */
#include <stdint.h>

#include "contend/arch.h"

struct queue_indices {
    CT_PAD_ALIGNED uint64_t head;
    _Alignas(CT_CACHE_LINE) uint64_t tail;
};
CT_ASSERT_SEPARATE_LINES(struct queue_indices, head, tail);

int main(void) { return 0; }
