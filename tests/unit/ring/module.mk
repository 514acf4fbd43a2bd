# The ring library and fce_size_parse: layout, validation, the record
# path, restarts and futex waits across processes.
$(eval $(call fce_test,unit-ring,tests/unit/ring/test_ring.c,fce_shm,))
