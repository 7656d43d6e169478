/* Labs: demonstrations that are not a throughput point (`contend lab NAME ...`).
 *
 * A lab owns its own command line (after `contend lab NAME`), its own output (often a time
 * series) and its own verdict. Each lab is one bench/lab_<name>.c defining a ct_lab, plus one
 * line in bench/lab_list.h. Conventions, as for the rest of the CLI: bad input prints one line
 * naming the bad value and returns 2; a failed verification or verdict returns 1; success 0. */
#ifndef CONTEND_LAB_H
#define CONTEND_LAB_H

#include <stddef.h>

typedef struct ct_lab {
    const char *name;
    const char *summary;
    /* argv[0] is the lab's name; argv[1..argc-1] its options. Returns the exit status. */
    int (*main)(int argc, char **argv);
    /* Prints the lab's usage to stdout (for `contend lab NAME --help`). */
    void (*help)(void);
} ct_lab;

size_t ct_lab_count(void);
const ct_lab *ct_lab_get(size_t i);          /* NULL when i >= count */
const ct_lab *ct_lab_find(const char *name); /* NULL when unknown */

#endif
