/* Reset and exception entry for every sapool board (Cortex-M4/M7/M55).
 *
 * Reset_Handler: enable the FPU (before any code that may touch FP registers), paint the unused stack with
 * SAPOOL_STACK_PAINT so that stack_high_water_bytes() can later find the deepest byte ever written, copy .data
 * from flash, zero .bss, run the board's hook, call main() and exit with its result. Faults end the program with
 * exit code SAPOOL_EXIT_FAULT so that an emulator run never hangs. The symbols come from the linker script
 * (sapool/boards/_common/linker.ld.j2).
 */
#include <stdint.h>
#include <string.h>

#include "console.h"
#include "startup.h"

extern uint32_t __data_load__[], __data_start__[], __data_end__[];
extern uint32_t __bss_start__[], __bss_end__[];
extern uint32_t __stack_limit__[], __stack_top__[];

int main(void);
void Reset_Handler(void);
void Fault_Handler(void);
void SysTick_Handler(void);

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SAPOOL_EXCEPTIONS 16

/* Boards that need clocks or caches set up before main() override this (see the board folder's board.c). */
__attribute__((weak)) void board_init(void) {}

__attribute__((noreturn)) void Reset_Handler(void) {
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
    SCB_CPACR |= 0xFu << 20; /* CP10 and CP11: full access for the FPU (and Helium on M55) */
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    /* Paint below the current stack pointer; volatile keeps gcc from turning the loop into a memset() call
     * whose own stack frame would be painted over. */
    volatile uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (volatile uint32_t *word = __stack_limit__; word < sp; ++word) {
        *word = SAPOOL_STACK_PAINT;
    }
    memcpy(__data_start__, __data_load__, (size_t)((char *)__data_end__ - (char *)__data_start__));
    memset(__bss_start__, 0, (size_t)((char *)__bss_end__ - (char *)__bss_start__));
    board_init();
    console_exit(main());
}

uint32_t stack_high_water_bytes(void) {
    const uint32_t *word = __stack_limit__;
    while (word < __stack_top__ && *word == SAPOOL_STACK_PAINT) {
        ++word;
    }
    return (uint32_t)((const char *)__stack_top__ - (const char *)word);
}

uint32_t stack_depth_bytes(void) {
    const char *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return (uint32_t)((const char *)__stack_top__ - sp);
}

uint32_t stack_size_bytes(void) {
    return (uint32_t)((const char *)__stack_top__ - (const char *)__stack_limit__);
}

void Fault_Handler(void) {
    console_write("sapool: processor fault\n");
    console_exit(SAPOOL_EXIT_FAULT);
}

__attribute__((weak)) void SysTick_Handler(void) {}

typedef void (*vector_t)(void);

__attribute__((section(".isr_vector"), used)) const vector_t sapool_vectors[SAPOOL_EXCEPTIONS + SAPOOL_IRQ_COUNT] = {
    [0] = (vector_t)__stack_top__,
    [1] = Reset_Handler,
    [2] = Fault_Handler, /* NMI */
    [3] = Fault_Handler, /* HardFault */
    [4] = Fault_Handler, /* MemManage */
    [5] = Fault_Handler, /* BusFault */
    [6] = Fault_Handler, /* UsageFault */
    [7] = Fault_Handler, /* SecureFault (v8-M) */
    [11] = Fault_Handler, /* SVCall */
    [12] = Fault_Handler, /* DebugMonitor */
    [14] = Fault_Handler, /* PendSV */
    [15] = SysTick_Handler,
    [SAPOOL_EXCEPTIONS ... SAPOOL_EXCEPTIONS + SAPOOL_IRQ_COUNT - 1] = Fault_Handler,
};
