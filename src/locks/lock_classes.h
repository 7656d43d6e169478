/* Declarations of every registered lock class, expanded from lock_list.h (private to
 * src/locks). */
#ifndef CONTEND_SRC_LOCK_CLASSES_H
#define CONTEND_SRC_LOCK_CLASSES_H

#include "contend/lock.h"

#define CT_LOCK(id) extern const ct_lock_class ct_lock_##id;
#include "lock_list.h"
#undef CT_LOCK

#endif
