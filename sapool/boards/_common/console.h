/* The firmware's only I/O: text out, whole files in and out, and the exit code.
 *
 * The QEMU harness image implements it over Arm semihosting (console_semihosting.c, files included); the
 * standalone board image over the board's debug UART (console_uart.c: text and exit only, its inputs are
 * compiled in). console_write_u64 is shared (console_number.c).
 */
#ifndef SAPOOL_CONSOLE_H
#define SAPOOL_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

void console_write(const char *text);
/* Decimal, no padding. */
void console_write_u64(uint64_t value);

/* Host files: a handle >= 0, or -1 when the file cannot be opened. */
int console_open(const char *path, int for_writing);
/* Length of an open file in bytes, -1 on error. */
long console_file_length(int handle);
/* 0 when all `size` bytes were transferred. */
int console_read(int handle, void *buffer, size_t size);
int console_write_file(int handle, const void *buffer, size_t size);
void console_close(int handle);

__attribute__((noreturn)) void console_exit(int code);

#endif
