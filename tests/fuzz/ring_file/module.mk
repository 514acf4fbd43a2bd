# Fuzz target: arbitrary bytes as a ring file (attach, read, release,
# produce). Seeds: tests/fuzz/seeds/ring_file/ (valid rings with records).
$(eval $(call fce_fuzz,ring_file,tests/fuzz/ring_file/fuzz_ring_file.c,\
    fce_shm,))
