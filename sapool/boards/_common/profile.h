/* Per-layer instruction counting with SysTick.
 *
 * SysTick runs from the core clock; under QEMU's `-icount shift=0` each instruction advances virtual time by
 * 1 ns, so ticks x (1e9 / core clock) is the instruction count, deterministic from run to run (DWT CYCCNT is not
 * emulated). On hardware the same ticks are core cycles. The host converts ticks; the firmware only counts.
 */
#ifndef SAPOOL_PROFILE_H
#define SAPOOL_PROFILE_H

#include <stdint.h>

void profile_start(void);
/* Ticks since profile_start(), 64-bit (the 24-bit SysTick's wraps are counted in its interrupt). */
uint64_t profile_now(void);
/* Ticks spent in layer `index` since profile_start(), summed over all invocations. */
uint64_t profile_layer_ticks(int index);

/* The hooks model.c calls around each layer when built with -DSAPOOL_PROFILE. */
void sapool_layer_begin(int index);
void sapool_layer_end(int index);

#endif
