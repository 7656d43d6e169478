/* contend/arch.h: per-architecture facts every primitive needs.
 *
 * CT_CACHE_LINE  the coherence unit: 64 bytes on every x86_64 and on the aarch64 cores we
 *                target (Neoverse, Cortex-A7x). Two variables in one line ping-pong together.
 * CT_PAD         the distance that keeps two hot fields from interfering: 128 bytes on
 *                x86_64 and aarch64. Intel's L2 "spatial prefetcher" (Sandy Bridge onward) and
 *                several AMD and Arm cores fetch lines in aligned 128-byte pairs, so a write to
 *                one line of a pair can still drag its neighbour (Intel optimization manual,
 *                "adjacent cache line prefetch"; crossbeam CachePadded and folly Align.h use
 *                the same number). Elsewhere it falls back to the line size.
 * ct_cpu_relax() the spin-wait hint: PAUSE on x86 (frees pipeline resources for the SMT
 *                sibling and avoids the memory-order machine clear when the spun-on line
 *                changes), YIELD on aarch64 (ISB is slower and is not what Arm documents
 *                for spin loops on the cores we target).
 */
#ifndef CONTEND_ARCH_H
#define CONTEND_ARCH_H

#include <stddef.h>

#define CT_CACHE_LINE 64

#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)
#define CT_PAD 128
#else
#define CT_PAD CT_CACHE_LINE
#endif

#define CT_CACHE_ALIGNED _Alignas(CT_CACHE_LINE)
#define CT_PAD_ALIGNED _Alignas(CT_PAD)

/* Static assertion that two fields of `type` can never share a cache line or an adjacent-line
 * prefetch pair: the type must be aligned to CT_PAD (so block boundaries inside it are real
 * block boundaries in memory) and the CT_PAD-sized blocks the two fields occupy must differ. */
#define CT__FIRST_BLOCK(type, f) (offsetof(type, f) / CT_PAD)
#define CT__LAST_BLOCK(type, f) ((offsetof(type, f) + sizeof(((type *)0)->f) - 1) / CT_PAD)
#define CT_ASSERT_SEPARATE_LINES(type, field_a, field_b)                                      \
    _Static_assert(_Alignof(type) >= CT_PAD &&                                                \
                       (CT__LAST_BLOCK(type, field_a) < CT__FIRST_BLOCK(type, field_b) ||    \
                        CT__LAST_BLOCK(type, field_b) < CT__FIRST_BLOCK(type, field_a)),     \
                   #type ": " #field_a " and " #field_b " may share a cache line or prefetch pair")

static inline void ct_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

/* A compiler barrier: keeps the compiler from merging or hoisting memory accesses across it;
 * emits no instruction. */
#define CT_COMPILER_BARRIER() __asm__ __volatile__("" ::: "memory")

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CT_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define CT_TSAN 1
#endif

#endif
