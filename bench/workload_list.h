/* X-macro list of workloads: CT_WORKLOAD(symbol), one bench/<name>.c each. The CLI, `list`,
 * the suite and the tests all expand this list: a new workload is one file plus one line. */
CT_WORKLOAD(ct_workload_counter)
CT_WORKLOAD(ct_workload_false_sharing)
CT_WORKLOAD(ct_workload_queue)
CT_WORKLOAD(ct_workload_pool)
CT_WORKLOAD(ct_workload_stack)
