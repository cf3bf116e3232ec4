"""One module per op family; sapool.backends.c.registry imports them all and indexes them by opcode."""
