/* X-macro list of peer stack classes: CT_PEER_STACK(symbol), each defined in
 * bench/peers/<lib>_stack*.c and present only when that library was found. */
#if defined(CT_HAVE_CK)
CT_PEER_STACK(ct_peer_ck_epoch_stack)
#endif
#if defined(CT_HAVE_URCU)
CT_PEER_STACK(ct_peer_urcu_stack)
#endif
