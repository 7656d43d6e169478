#include <string.h>

#include "lab.h"

#define CT_LAB(sym) extern const ct_lab sym;
#include "lab_list.h"
#undef CT_LAB

static const ct_lab *const lab_table[] = {
#define CT_LAB(sym) &sym,
#include "lab_list.h"
#undef CT_LAB
    NULL, /* keeps the array non-empty while the list is */
};

size_t ct_lab_count(void) { return sizeof lab_table / sizeof lab_table[0] - 1; }

const ct_lab *ct_lab_get(size_t i) { return i < ct_lab_count() ? lab_table[i] : NULL; }

const ct_lab *ct_lab_find(const char *name)
{
    for (size_t i = 0; i < ct_lab_count(); i++)
        if (strcmp(lab_table[i]->name, name) == 0)
            return lab_table[i];
    return NULL;
}
