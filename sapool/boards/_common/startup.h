/* What the startup code tells the rest of the firmware: exit codes and the painted-stack high-water mark. */
#ifndef SAPOOL_STARTUP_H
#define SAPOOL_STARTUP_H

#include <stdint.h>

#define SAPOOL_STACK_PAINT 0xC5C5C5C5u

/* Exit codes of the harness (given to console_exit: the debugger or the host running QEMU reads them). */
#define SAPOOL_EXIT_OK 0
#define SAPOOL_EXIT_INVOKE_FAILED 4
#define SAPOOL_EXIT_IO_FAILED 5
#define SAPOOL_EXIT_FAULT 6

/* Set up clocks or caches before main(); a no-op unless the board folder provides one. */
void board_init(void);

/* Bytes of the stack ever written since reset (deepest unpainted word up to the stack top). */
uint32_t stack_high_water_bytes(void);
/* Bytes of the stack in use at the caller's point (stack top minus the stack pointer). */
uint32_t stack_depth_bytes(void);
/* Bytes reserved for the stack by the linker script. */
uint32_t stack_size_bytes(void);

#endif
