/* The peer stack registry (peers.h): the array behind ct_peer_stack_class_count/get/find. */
#include <string.h>

#include "peers.h"

#define CT_PEER_STACK(sym) extern const ct_stack_class sym;
#include "peer_stack_list.h"
#undef CT_PEER_STACK

static const ct_stack_class *const peer_stacks[] = {
#define CT_PEER_STACK(sym) &sym,
#include "peer_stack_list.h"
#undef CT_PEER_STACK
    NULL, /* keeps the array non-empty when no peer was found */
};

size_t ct_peer_stack_class_count(void) { return sizeof peer_stacks / sizeof peer_stacks[0] - 1; }

const ct_stack_class *ct_peer_stack_class_get(size_t i)
{
    return i < ct_peer_stack_class_count() ? peer_stacks[i] : NULL;
}

const ct_stack_class *ct_peer_stack_class_find(const char *name)
{
    for (size_t i = 0; name && i < ct_peer_stack_class_count(); i++)
        if (strcmp(peer_stacks[i]->name, name) == 0)
            return peer_stacks[i];
    return NULL;
}
