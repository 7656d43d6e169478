/* Must compile: two hot fields CT_PAD apart in a CT_PAD-aligned struct. */
#include <stdint.h>

#include "contend/arch.h"

struct queue_indices {
    CT_PAD_ALIGNED uint64_t head;
    CT_PAD_ALIGNED uint64_t tail;
};
CT_ASSERT_SEPARATE_LINES(struct queue_indices, head, tail);

int main(void) { return 0; }
