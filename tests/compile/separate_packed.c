/* Must NOT compile: head and tail share a cache line (the classic false-sharing layout). */
#include <stdint.h>

#include "contend/arch.h"

struct queue_indices {
    CT_PAD_ALIGNED uint64_t head;
    uint64_t tail;
};
CT_ASSERT_SEPARATE_LINES(struct queue_indices, head, tail);

int main(void) { return 0; }
