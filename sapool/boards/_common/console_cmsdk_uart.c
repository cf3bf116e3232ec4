/* console.h over the CMSDK APB UART of Arm's MPS2/MPS3 boards (QEMU's mps2-an386/an500/an505, mps3-an547), or the
 * nRF51's UART on QEMU's microbit (-DSAPOOL_UART_NRF51).
 *
 * Polled, no interrupts. Text goes out as it is; outputs leave as text lines `out <hex bytes>`. Inputs are a block
 * the host placed in memory the linker script never uses, at SAPOOL_HOST_INPUTS (QEMU: `-device loader`): a
 * 4-byte little-endian row count, 12 bytes of padding, then the rows back to back. The exit code is the line
 * `sapool-exit <code>`, after which the core idles: the host stops QEMU when it reads that line. No semihosting
 * is involved anywhere, so QEMU needs none of its host access. Registers: Arm CMSDK technical reference
 * (DDI 0479), APB UART.
 */
#include "console.h"

#if !defined(SAPOOL_UART_BASE) || !defined(SAPOOL_HOST_INPUTS)
#error "define SAPOOL_UART_BASE and SAPOOL_HOST_INPUTS (make CONSOLE=cmsdk_uart UART_BASE=0x40004000 HOST_INPUTS=...)"
#endif

typedef struct {
    volatile uint32_t data;
    volatile uint32_t state; /* bit 0: transmit buffer full, bit 1: receive buffer full */
    volatile uint32_t ctrl;  /* bit 0: transmit enable, bit 1: receive enable */
    volatile uint32_t int_status;
    volatile uint32_t baud_div;
} CmsdkUart;

#define UART ((CmsdkUart *)(SAPOOL_UART_BASE))
enum { STATE_TX_FULL = 1u, CTRL_TX = 1u, MIN_BAUD_DIVIDER = 16u, ROWS_OFFSET = 16u };

/* In .harness (not initialised, not counted as the model's RAM): set by console_input_rows before use. */
static const volatile uint8_t *next_input __attribute__((section(".harness")));

#if defined(SAPOOL_UART_NRF51)
/* QEMU's microbit (qemu-m0) has the nRF51's UART instead (nRF51 Series Reference Manual, UART): ENABLE 0x500 = 4,
 * TASKS_STARTTX 0x008, TXD 0x51C, EVENTS_TXDRDY 0x11C. Waits are bounded: a byte is never worth a hang. */
#define NRF_UART(offset) (*(volatile uint32_t *)((SAPOOL_UART_BASE) + (offset)))
enum { NRF_ENABLED = 4u, NRF_TXDRDY_POLLS = 100000u };

static void put_char(char c) {
    if (NRF_UART(0x500u) != NRF_ENABLED) {
        NRF_UART(0x500u) = NRF_ENABLED;
        NRF_UART(0x008u) = 1u;
    }
    NRF_UART(0x11Cu) = 0u;
    NRF_UART(0x51Cu) = (uint8_t)c;
    for (uint32_t poll = 0; poll < NRF_TXDRDY_POLLS && NRF_UART(0x11Cu) == 0u; ++poll) {
    }
}
#else
static void uart_start(void) {
    if ((UART->ctrl & CTRL_TX) == 0u) {
        UART->baud_div = MIN_BAUD_DIVIDER;
        UART->ctrl = CTRL_TX;
    }
}

static void put_char(char c) {
    uart_start();
    while (UART->state & STATE_TX_FULL) {
    }
    UART->data = (uint8_t)c;
}
#endif

void console_write(const char *text) {
    while (*text != '\0') {
        put_char(*text++);
    }
}

long console_input_rows(size_t row_bytes) {
    (void)row_bytes;
    const volatile uint8_t *header = (const volatile uint8_t *)(SAPOOL_HOST_INPUTS);
    uint32_t count = 0;
    for (int i = 0; i < 4; ++i) {
        count |= (uint32_t)header[i] << (8 * i);
    }
    next_input = header + ROWS_OFFSET;
    return count == 0u ? -1 : (long)count;
}

int console_read_input(void *buffer, size_t size) {
    uint8_t *bytes = buffer;
    for (size_t i = 0; i < size; ++i) {
        bytes[i] = *next_input++;
    }
    return 0;
}

int console_write_output(const void *buffer, size_t size) {
    static const char hex[] = "0123456789abcdef";
    const uint8_t *bytes = buffer;
    console_write("out ");
    for (size_t i = 0; i < size; ++i) {
        put_char(hex[bytes[i] >> 4]);
        put_char(hex[bytes[i] & 15u]);
    }
    put_char('\n');
    return 0;
}

void console_end_io(void) {}

void console_exit(int code) {
    console_write("sapool-exit ");
    console_write_u64((uint64_t)(code < 0 ? 255 : code));
    console_write("\n");
    for (;;) {
        __asm__ volatile("wfi");
    }
}
