/* The stack registry: ct_stack_class_count/get/find over stack_list.h. */
#include <string.h>

#include "stack_common.h"

char ct__stack_dummy_handle;

#define CT_STACK(id) extern const ct_stack_class ct_stack_##id;
#include "stack_list.h"
#undef CT_STACK

static const ct_stack_class *const classes[] = {
#define CT_STACK(id) &ct_stack_##id,
#include "stack_list.h"
#undef CT_STACK
};

size_t ct_stack_class_count(void) { return sizeof classes / sizeof classes[0]; }

const ct_stack_class *ct_stack_class_get(size_t i)
{
    return i < ct_stack_class_count() ? classes[i] : NULL;
}

const ct_stack_class *ct_stack_class_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < ct_stack_class_count(); i++)
        if (strcmp(classes[i]->name, name) == 0)
            return classes[i];
    return NULL;
}

size_t ct_stack_node_size(void) { return sizeof(ct__snode); }
