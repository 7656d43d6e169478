#include <string.h>

#include "contend/harness.h"

#define CT_WORKLOAD(sym) extern const ct_workload sym;
#include "workload_list.h"
#undef CT_WORKLOAD

static const ct_workload *const workloads[] = {
#define CT_WORKLOAD(sym) &sym,
#include "workload_list.h"
#undef CT_WORKLOAD
};

size_t ct_workload_count(void) { return sizeof workloads / sizeof workloads[0]; }

const ct_workload *ct_workload_get(size_t i)
{
    return i < ct_workload_count() ? workloads[i] : NULL;
}

const ct_workload *ct_workload_find(const char *name)
{
    for (size_t i = 0; i < ct_workload_count(); i++)
        if (strcmp(workloads[i]->name, name) == 0)
            return workloads[i];
    return NULL;
}

bool ct_workload_has_impl(const ct_workload *w, const char *impl)
{
    for (size_t i = 0; i < w->impl_count(); i++)
        if (strcmp(w->impl_name(i), impl) == 0)
            return true;
    return false;
}
