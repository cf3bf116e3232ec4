/* nRF52840-DK: the core always runs at 64 MHz; this starts the 32 MHz crystal (HFXO) for an accurate UART baud
 * rate and turns on the flash instruction cache (NVMC ICACHECNF). Console on UARTE0 with TXD P0.06 and RXD P0.08,
 * the interface MCU's virtual COM port (nRF52840 DK user guide, "Virtual serial port"). Register offsets: nRF52840
 * Product Specification, CLOCK §5.4, NVMC §4.3, UARTE §6.34, GPIO §6.9. A crystal that does not start leaves the
 * internal oscillator in charge, which the clock line reports.
 */
#include "board.h"

#define CLOCK_TASKS_HFCLKSTART BOARD_REG(0x40000000u)
#define CLOCK_EVENTS_HFCLKSTARTED BOARD_REG(0x40000100u)
#define NVMC_ICACHECNF BOARD_REG(0x4001E540u)
#define P0_OUTSET BOARD_REG(0x50000508u)
#define P0_DIRSET BOARD_REG(0x50000518u)
#define UARTE0 0x40002000u
#define UARTE_TASKS_STARTTX BOARD_REG(UARTE0 + 0x008u)
#define UARTE_EVENTS_ENDTX BOARD_REG(UARTE0 + 0x120u)
#define UARTE_ENABLE BOARD_REG(UARTE0 + 0x500u)
#define UARTE_PSEL_TXD BOARD_REG(UARTE0 + 0x50Cu)
#define UARTE_PSEL_RXD BOARD_REG(UARTE0 + 0x514u)
#define UARTE_BAUDRATE BOARD_REG(UARTE0 + 0x524u)
#define UARTE_TXD_PTR BOARD_REG(UARTE0 + 0x544u)
#define UARTE_TXD_MAXCNT BOARD_REG(UARTE0 + 0x548u)
#define UARTE_CONFIG BOARD_REG(UARTE0 + 0x56Cu)

#define CORE_HZ 64000000u
#define TXD_PIN 6u
#define RXD_PIN 8u
#define UARTE_ENABLED 8u
#define UARTE_BAUD_115200 0x01D60000u

/* EasyDMA reads only from RAM: each byte goes out through this one (in .harness: not the model's RAM). */
static volatile char transmit_byte __attribute__((section(".harness")));

void board_clock_init(struct board_clock *clock) {
    NVMC_ICACHECNF = 1u;
    CLOCK_EVENTS_HFCLKSTARTED = 0u;
    CLOCK_TASKS_HFCLKSTART = 1u;
    clock->core_hz = CORE_HZ;
    clock->uart_hz = CORE_HZ;
    clock->note = board_wait(&CLOCK_EVENTS_HFCLKSTARTED, 1u, 1u)
                      ? "64 MHz from the 32 MHz crystal (HFXO), instruction cache on"
                      : "64 MHz from the internal oscillator (fell back: HFXO never started), instruction cache on";
}

void board_uart_init(uint32_t uart_hz) {
    (void)uart_hz; /* the UARTE's baud generator runs from the 16 MHz peripheral clock whatever the core does */
    P0_OUTSET = 1u << TXD_PIN;
    P0_DIRSET = 1u << TXD_PIN;
    UARTE_PSEL_TXD = TXD_PIN;
    UARTE_PSEL_RXD = RXD_PIN;
    UARTE_BAUDRATE = UARTE_BAUD_115200;
    UARTE_CONFIG = 0u;
    UARTE_ENABLE = UARTE_ENABLED;
}

void board_uart_putc(char c) {
    transmit_byte = c;
    UARTE_TXD_PTR = (uint32_t)(uintptr_t)&transmit_byte;
    UARTE_TXD_MAXCNT = 1u;
    UARTE_EVENTS_ENDTX = 0u;
    UARTE_TASKS_STARTTX = 1u;
    board_wait(&UARTE_EVENTS_ENDTX, 1u, 1u);
}
