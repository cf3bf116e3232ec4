/* NUCLEO-G0B1RE: STM32G0B1 to 64 MHz, console on USART2 (PA2 TX, PA3 RX, AF1), the ST-LINK virtual COM port.
 *
 * Clock tree (RM0444 §5): voltage range 1 (the reset state), 2 flash wait states with the instruction cache and
 * prefetch (§3.3.4), PLL from HSI16 / M 1 x N 8 = 128 MHz VCO / R 2 = 64 MHz; AHB and APB /1, so USART2's kernel
 * clock (pclk, the reset choice) is 64 MHz. Cortex-M0+ has no DWT cycle counter: `dwt 0`, SysTick counts the
 * cycles. Any ready flag that does not come keeps the part on HSI16, its reset clock.
 */
#include "board.h"
#include "stm32_usart.h"

#define RCC 0x40021000u
#define RCC_CR BOARD_REG(RCC + 0x00u)
#define RCC_CFGR BOARD_REG(RCC + 0x08u)
#define RCC_PLLCFGR BOARD_REG(RCC + 0x0Cu)
#define RCC_IOPENR BOARD_REG(RCC + 0x34u)
#define RCC_APBENR1 BOARD_REG(RCC + 0x3Cu)
#define FLASH_ACR BOARD_REG(0x40022000u)
#define GPIOA 0x50000000u
#define USART2 0x40004400u

#define HSI_HZ 16000000u
#define PLL_HZ 64000000u
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define FLASH_ACR_CACHE ((1u << 8) | (1u << 9)) /* PRFTEN, ICEN */
#define FLASH_WAIT_STATES 2u
#define CFGR_SW_PLL 2u
#define CFGR_SWS_PLL (2u << 3)

static void fall_back(struct board_clock *clock, const char *note) {
    clock->core_hz = HSI_HZ;
    clock->uart_hz = HSI_HZ;
    clock->note = note;
}

void board_clock_init(struct board_clock *clock) {
    FLASH_ACR = (FLASH_ACR & ~7u) | FLASH_ACR_CACHE | FLASH_WAIT_STATES;
    if ((FLASH_ACR & 7u) != FLASH_WAIT_STATES) {
        fall_back(clock, "HSI16 16 MHz (fell back: flash did not take 2 wait states, no flash model?)");
        return;
    }
    /* PLLSRC HSI16 (2), PLLM /1 (0), PLLN 8, PLLR /2 (1) with PLLREN */
    RCC_PLLCFGR = 2u | (0u << 4) | (8u << 8) | (1u << 28) | (1u << 29);
    RCC_CR |= RCC_CR_PLLON;
    if (!board_wait(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY)) {
        fall_back(clock, "HSI16 16 MHz (fell back: PLLRDY never set)");
        return;
    }
    RCC_CFGR = (RCC_CFGR & ~(7u | (0xFu << 8) | (7u << 12))) | CFGR_SW_PLL;
    if (!board_wait(&RCC_CFGR, 7u << 3, CFGR_SWS_PLL)) {
        RCC_CFGR &= ~7u;
        fall_back(clock, "HSI16 16 MHz (fell back: the switch to the PLL never showed in SWS)");
        return;
    }
    clock->core_hz = PLL_HZ;
    clock->uart_hz = PLL_HZ;
    clock->note = "PLL from HSI16, 64 MHz, 2 wait states, instruction cache and prefetch on";
}

void board_uart_init(uint32_t uart_hz) {
    RCC_IOPENR |= 1u << 0; /* GPIOA */
    RCC_APBENR1 |= 1u << 17; /* USART2 */
    stm32_pin_alternate(GPIOA, 2u, 1u);
    stm32_pin_alternate(GPIOA, 3u, 1u);
    stm32_usart_isr_start(USART2, uart_hz, 1u);
}

void board_uart_putc(char c) { stm32_usart_isr_putc(USART2, c); }
