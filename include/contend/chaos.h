/* contend/chaos.h: schedule perturbation for stress tests.
 *
 * In the chaos build (CMake option CONTEND_CHAOS, which defines CT_CHAOS_BUILD) every CT_CHAOS()
 * point placed between the atomic steps of a primitive may spin, yield or sleep for a random
 * short time. That widens the windows between steps so that interleavings a normal run almost
 * never produces (a thread preempted between claiming and publishing, between reading a head
 * and CAS-ing it) happen thousands of times a second. Randomness is per thread, seeded from
 * the process seed: CT_CHAOS_SEED in the environment, or the clock when unset. The seed is
 * printed by ct_chaos_report_seed() (tests call it on failure) so a failure can be replayed
 * as closely as a real scheduler allows. In every other build CT_CHAOS() compiles to nothing.
 */
#ifndef CONTEND_CHAOS_H
#define CONTEND_CHAOS_H

#include <stdint.h>

#ifdef CT_CHAOS_BUILD
void ct_chaos_point(void);
#define CT_CHAOS() ct_chaos_point()
#else
#define CT_CHAOS() ((void)0)
#endif
/* The same mark under the name the queue issue gave it. */
#define CT_CHAOS_POINT() CT_CHAOS()

/* The seed in use (0 when the chaos build is off) and a one-line report on stderr. */
uint64_t ct_chaos_seed(void);
void ct_chaos_report_seed(const char *test_name);

#endif
