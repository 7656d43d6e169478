/* The queue registry: the array behind ct_queue_class_count/get/find, expanded from
 * queue_list.h, the only place a new queue is added. */
#include <string.h>

#include "contend/queue.h"

#define CT_QUEUE(id) extern const ct_queue_class ct_queue_##id;
#include "queue_list.h"
#undef CT_QUEUE

static const ct_queue_class *const classes[] = {
#define CT_QUEUE(id) &ct_queue_##id,
#include "queue_list.h"
#undef CT_QUEUE
};

size_t ct_queue_class_count(void) { return sizeof classes / sizeof classes[0]; }

const ct_queue_class *ct_queue_class_get(size_t i)
{
    return i < ct_queue_class_count() ? classes[i] : NULL;
}

const ct_queue_class *ct_queue_class_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < ct_queue_class_count(); i++)
        if (strcmp(classes[i]->name, name) == 0)
            return classes[i];
    return NULL;
}
