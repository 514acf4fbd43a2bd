# Stats files: counters, reopen with totals, readers, bad files.
$(eval $(call fce_test,unit-stats,tests/unit/stats/test_stats.c,fce_shm,))
