/* X-macro list of peer lock classes: CT_PEER_LOCK(symbol), each defined in bench/peers/<lib>_*.c
 * and present only when that library was found. */
#if defined(CT_HAVE_CK)
#if defined(__x86_64__) || defined(__i386__) /* ck's ticket lock has trylock only on x86 */
CT_PEER_LOCK(ct_peer_ck_ticket)
#endif
CT_PEER_LOCK(ct_peer_ck_mcs)
CT_PEER_LOCK(ct_peer_ck_fas)
CT_PEER_LOCK(ct_peer_ck_cas)
CT_PEER_LOCK(ct_peer_ck_dec)
#endif
