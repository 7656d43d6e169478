/* The stack registry's one list: CT_STACK(id) names `const ct_stack_class ct_stack_<id>`
 * defined in src/lockfree/stack_<id>.c. Order = ct_stack_class_get() order. No include guard:
 * expanded several times with different definitions of CT_STACK. */
CT_STACK(tagged)
CT_STACK(hazard)
CT_STACK(epoch)
CT_STACK(mutex)
CT_STACK(naive)
