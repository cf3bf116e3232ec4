/* The firmware's only I/O: text out and the exit code (every image); input rows in and output rows back (the
 * QEMU harness image).
 *
 * The standalone board image implements the text part over the board's debug UART (console_uart.c; its inputs
 * are compiled in). The QEMU harness image (`sapool emulate` on the mps2/mps3 boards) uses console_cmsdk_uart.c:
 * the boards' CMSDK UART for text and outputs, and input rows QEMU's loader placed in memory. No image uses
 * semihosting, so QEMU runs without it: nothing a firmware does reaches the host's files or commands
 * (docs/security.md). console_write_u64 is shared (console_number.c).
 */
#ifndef SAPOOL_CONSOLE_H
#define SAPOOL_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

void console_write(const char *text);
/* Decimal, no padding. */
void console_write_u64(uint64_t value);

__attribute__((noreturn)) void console_exit(int code);

/* Harness image only. How many input rows of `row_bytes` the host has for us (-1 when there are none). */
long console_input_rows(size_t row_bytes);
/* The next `size` input bytes, in order; 0 when all of them arrived. */
int console_read_input(void *buffer, size_t size);
/* `size` output bytes, in order; 0 when all of them were delivered. */
int console_write_output(const void *buffer, size_t size);
/* No more inputs will be read or outputs written. */
void console_end_io(void);

#endif
