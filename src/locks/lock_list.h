/* The lock registry's one list: each line names a `const ct_lock_class ct_lock_<id>` defined in
 * src/locks/<file>.c. Adding a lock = one new file + one line here. The order is the order of
 * ct_lock_class_get() (and of the harness's tables): baselines first, then by sophistication.
 * No include guard: this file is meant to be expanded several times with different
 * definitions of CT_LOCK. */
CT_LOCK(pthread_mutex)
CT_LOCK(pthread_spin)
CT_LOCK(tas)
CT_LOCK(ttas)
CT_LOCK(ticket)
CT_LOCK(mcs)
CT_LOCK(futex)
CT_LOCK(adaptive)
