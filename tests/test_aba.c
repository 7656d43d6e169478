// ctest-timeout: 180
/* The ABA demonstration (bench/lab_aba.c) as a test: the scripted interleaving must break
 * `naive` in the known way (thread 1's first CAS succeeds on the reused node A, freed node B
 * becomes the head, the next pop reads it, item 'c' is lost) and leave `tagged`, `hazard` and
 * `epoch` intact (every item once, no freed node read, nothing leaked); `tagged` must have
 * been fooled on the pointer (head was A again) and saved by the tag. Then the random stress
 * mode on the correct stacks must find no damage (the pool's poisoning and double-free checks
 * watch for use after free in every build), and it must find the naive failure (with random
 * yields at the ABA window; not under TSan, where naive's races are real races). */
#include <stdio.h>
#include <string.h>

#include "contend/arch.h" /* CT_TSAN */
#include "lab_aba.h"
#include "test_util.h"

int main(void)
{
    static const char *const names[] = {"naive", "tagged", "hazard", "epoch"};
    for (int round = 0; round < 3; round++) { /* deterministic: the same every time */
        for (size_t i = 0; i < 4; i++) {
            const ct_stack_class *c = ct_stack_class_find(names[i]);
            CT_CHECK(c != NULL, "%s", names[i]);
            ct_aba_outcome o;
            CT_CHECK(ct_aba_script(c, &o) == 0, "%s: script could not run", names[i]);
            if (round == 0)
                printf("%-7s %s\n", names[i], o.detail);
            if (c->broken) {
                CT_CHECK(o.broken_as_scripted && !o.intact, "naive: %s", o.detail);
                CT_CHECK(o.pause_calls == 1 && o.lost == 1 && o.freed_reads >= 1,
                         "naive: %s", o.detail);
            } else {
                CT_CHECK(o.intact && !o.broken_as_scripted, "%s: %s", names[i], o.detail);
                CT_CHECK(o.pause_calls >= 2, "%s: thread 1's first CAS should fail", names[i]);
            }
            if (!strcmp(names[i], "tagged"))
                CT_CHECK(o.head_was_a_again, "tagged: the head should be A again: %s", o.detail);
            if (!strcmp(names[i], "epoch"))
                CT_CHECK(o.pending_at_resume >= 2, "epoch: A and B must wait for thread 1");
        }
    }
    double secs = 0.3;
#if defined(CT_SANITIZED) || defined(CT_CHAOS_BUILD)
    secs = 0.6;
#endif
    for (size_t i = 1; i < 4; i++) {
        ct_aba_stress_result r;
        /* jitter 8: one pop in 8 yields at the ABA window, as the naive check below. */
        CT_CHECK(ct_aba_stress(ct_stack_class_find(names[i]), 4, secs, 8, &r) == 0, "stress");
        CT_CHECK(r.damaged == 0 && r.trials > 0, "%s: damage in %llu trials: %s", names[i],
                 (unsigned long long)r.damaged, r.first_kind);
        printf("%-7s stress: no damage in %llu trials (%.2f M ops)\n", names[i],
               (unsigned long long)r.trials, (double)r.ops / 1e6);
    }
#if !defined(CT_TSAN) /* naive races by design: TSan would (rightly) report it */
    /* The random mode must find the naive failure: with jitter 4 (a yield at one ABA window
     * in 4) it shows in most 200 ms trials, so 3 s without any is not bad luck but a bug. */
    ct_aba_stress_result r;
    CT_CHECK(ct_aba_stress(ct_stack_class_find("naive"), 4, 3.0, 4, &r) == 0, "stress naive");
    printf("naive   stress, jitter 4: damage in %llu of %llu trials%s%s\n",
           (unsigned long long)r.damaged, (unsigned long long)r.trials, r.damaged ? ": " : "",
           r.damaged ? r.first_kind : "");
    CT_CHECK(r.damaged > 0, "the random stress did not find the naive failure");
#endif
    puts("test_aba: ok");
    return 0;
}
