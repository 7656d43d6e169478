/* The queue registry's one list: each line names a `const ct_queue_class ct_queue_<id>` defined
 * in src/queues/ (mpmc_class.c, mutex_queue.c, spsc.c). Adding a queue = one new file + one
 * line here. The order is the order of ct_queue_class_get() (and of the harness's tables).
 * No include guard: this file is meant to be expanded several times with different
 * definitions of CT_QUEUE. */
CT_QUEUE(mpmc)
CT_QUEUE(mutex)
CT_QUEUE(spsc)
