/* SysTick-based tick counter and the per-layer hooks model.c calls when built with -DSAPOOL_PROFILE. */
#include "profile.h"

#include "model.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYST_CSR_ENABLE_TICKINT_CORECLOCK 0x7u
#define SYST_RELOAD 0xFFFFFFu

/* Harness bookkeeping lives in .harness so the ELF size check does not count it as the model's RAM. */
static volatile uint32_t systick_wraps __attribute__((section(".harness")));
static uint64_t layer_started[SAPOOL_NUM_LAYERS] __attribute__((section(".harness")));
static uint64_t layer_ticks[SAPOOL_NUM_LAYERS] __attribute__((section(".harness")));

void SysTick_Handler(void) { ++systick_wraps; }

void profile_start(void) {
    for (int i = 0; i < SAPOOL_NUM_LAYERS; ++i) {
        layer_started[i] = 0;
        layer_ticks[i] = 0;
    }
    systick_wraps = 0;
    SYST_RVR = SYST_RELOAD;
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_ENABLE_TICKINT_CORECLOCK;
    while (SYST_CVR == 0u) {
        /* the first tick loads the reload value without a wrap: from then on, ticks = RELOAD - CVR + wraps */
    }
}

uint64_t profile_now(void) {
    uint32_t wraps;
    uint32_t value;
    /* A compiler barrier: should a layer ever be inlined next to this call (e.g. under -flto), none of its loads
     * or stores may move across the clock reading that opens or closes it. */
    __asm__ volatile("" ::: "memory");
    do {
        wraps = systick_wraps;
        value = SYST_CVR;
    } while (wraps != systick_wraps);
    return (uint64_t)wraps * (SYST_RELOAD + 1u) + (SYST_RELOAD - value);
}

uint64_t profile_layer_ticks(int index) { return layer_ticks[index]; }

void sapool_layer_begin(int index) { layer_started[index] = profile_now(); }

void sapool_layer_end(int index) { layer_ticks[index] += profile_now() - layer_started[index]; }
