/* What a board folder gives the standalone image (board_main.c): its clock tree and its debug UART.
 *
 * board_clock_init() brings the part to its rated clock (PLL, flash wait states, voltage scaling, caches or
 * prefetch). Every wait on a ready flag is bounded by BOARD_READY_POLLS; when one runs out the part stays on the
 * clock it had and `note` says so, so an emulator that does not model the clock controller (QEMU's STM32 SoCs)
 * still boots and prints the clock it fell back to. Register addresses come from each part's reference manual.
 */
#ifndef SAPOOL_BOARD_H
#define SAPOOL_BOARD_H

#include <stdint.h>

#define BOARD_UART_BAUD 115200u
#define BOARD_READY_POLLS 200000u

struct board_clock {
    uint32_t core_hz;  /* the core clock the part runs at now */
    uint32_t uart_hz;  /* the clock the debug UART's baud-rate generator runs from */
    const char *note;  /* how it got there: "PLL ..." or which wait ran out and what it fell back to */
};

void board_clock_init(struct board_clock *clock);
void board_uart_init(uint32_t uart_hz);
void board_uart_putc(char c);

/* Polls `*reg` until (value & mask) == want, at most BOARD_READY_POLLS times; 1 when it got there. */
static inline int board_wait(volatile uint32_t *reg, uint32_t mask, uint32_t want) {
    for (uint32_t poll = 0; poll < BOARD_READY_POLLS; ++poll) {
        if ((*reg & mask) == want) {
            return 1;
        }
    }
    return 0;
}

#define BOARD_REG(address) (*(volatile uint32_t *)(address))

#endif
