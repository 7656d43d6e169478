/* The lock registry: the array behind ct_lock_class_count/get/find, expanded from
 * lock_list.h, the only place a new lock is added. */
#include <string.h>

#include "contend/lock.h"
#include "lock_classes.h"

static const ct_lock_class *const classes[] = {
#define CT_LOCK(id) &ct_lock_##id,
#include "lock_list.h"
#undef CT_LOCK
};

size_t ct_lock_class_count(void) { return sizeof classes / sizeof classes[0]; }

const ct_lock_class *ct_lock_class_get(size_t i)
{
    return i < ct_lock_class_count() ? classes[i] : NULL;
}

const ct_lock_class *ct_lock_class_find(const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < ct_lock_class_count(); i++)
        if (strcmp(classes[i]->name, name) == 0)
            return classes[i];
    return NULL;
}
