/* console.h's text output and exit over the board's debug UART (board.h), for the standalone board image.
 * There is no host to exit to: console_exit() reports the code and stays, so a terminal shows why it stopped. */
#include "board.h"
#include "console.h"

void console_write(const char *text) {
    while (*text != '\0') {
        if (*text == '\n') {
            board_uart_putc('\r');
        }
        board_uart_putc(*text++);
    }
}

void console_exit(int code) {
    console_write("sapool-board exit ");
    console_write_u64((uint64_t)(uint32_t)code);
    console_write("\n");
    for (;;) {
        __asm__ volatile("wfi");
    }
}
