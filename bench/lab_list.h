/* X-macro list of labs: CT_LAB(symbol), one bench/lab_<name>.c each (see lab.h). */
CT_LAB(ct_lab_stalled_producer)
CT_LAB(ct_lab_backpressure)
CT_LAB(ct_lab_aba)
CT_LAB(ct_lab_pipeline_overhead)
