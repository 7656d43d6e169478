/* X-macro list of peer queue classes: CT_PEER_QUEUE(symbol), each defined in
 * bench/peers/<lib>*.c(pp) and present only when CMake found that library. The queue workload
 * lists them after the library's own queues. */
#if defined(CT_HAVE_CK)
CT_PEER_QUEUE(ct_peer_ck_ring)
#endif
#if defined(CT_HAVE_MOODYCAMEL)
CT_PEER_QUEUE(ct_peer_moodycamel)
CT_PEER_QUEUE(ct_peer_moodycamel_tok)
CT_PEER_QUEUE(ct_peer_moodycamel_blocking)
#endif
#if defined(CT_HAVE_BOOST_LOCKFREE)
CT_PEER_QUEUE(ct_peer_boost_lockfree)
#endif
#if defined(CT_HAVE_TBB)
CT_PEER_QUEUE(ct_peer_tbb_bounded)
#endif
