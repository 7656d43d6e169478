/* `contend lab aba`: the ABA problem on Treiber stacks, scripted and at random (lab_aba.c).
 * Exposed for tests/test_aba.c, which runs the same script and checks the same verdicts. */
#ifndef CONTEND_LAB_ABA_H
#define CONTEND_LAB_ABA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contend/stack.h"

typedef struct ct_aba_outcome {
    bool intact;             /* every item accounted for once, no freed node read, no leak */
    bool broken_as_scripted; /* naive: first CAS succeeded on reused A, freed B became head,
                              * the next pop read it, item 'c' was lost */
    unsigned pause_calls;    /* thread 1's pop attempts (1 = its first CAS succeeded) */
    bool head_was_a_again;   /* thread 1's retry read the same node A (tagged: the tag saved it) */
    size_t lost, duplicates, garbage, freed_reads, leaked;
    size_t pending_at_resume; /* nodes awaiting reclamation when thread 1 resumed */
    char detail[512];        /* one human sentence */
} ct_aba_outcome;

/* Runs the scripted interleaving on a fresh stack of class c whose nodes come from a private
 * poisoning pool. 0, or -1 with errno when the stack or threads cannot be created. */
int ct_aba_script(const ct_stack_class *c, ct_aba_outcome *out);

typedef struct ct_aba_stress_result {
    uint64_t trials, damaged, ops;
    double seconds, first_damage_ms, mean_damage_ms; /* ms into a trial */
    char first_kind[128];                            /* what the first damage looked like */
} ct_aba_stress_result;

/* Random stress without scripted pauses: `threads` threads pop and push back a few items on
 * fresh stacks (trials of up to 200 ms) for `seconds`. jitter = 0: nothing added (the chaos
 * build's CT_CHAOS points are the only perturbation); jitter = J > 0: at pop's ABA window
 * (the pause hook) a thread yields the CPU with probability 1/J, at random, in no scripted
 * order: what a preemption there does. 0, or -1 with errno. */
int ct_aba_stress(const ct_stack_class *c, unsigned threads, double seconds, unsigned jitter,
                  ct_aba_stress_result *out);

#endif
