/* NUCLEO-F746ZG: STM32F746 to 216 MHz, console on USART3 (PD8 TX, PD9 RX, AF7), the ST-LINK virtual COM port.
 *
 * Clock tree (RM0385 §5): HSI 16 MHz / M 8 x N 216 / P 2 = 216 MHz, which needs voltage scale 1 with over-drive
 * (§4.1.4) and 7 flash wait states (§3.3.2, 2.7-3.6 V); AHB /1, APB1 /4 = 54 MHz (USART3), APB2 /2 = 108 MHz.
 * The flash interface's ART accelerator and prefetch are on; the core's I- and D-caches come from m7_caches.c.
 * Any ready flag that does not come keeps the part on HSI.
 */
#include "board.h"
#include "stm32_usart.h"

#define RCC 0x40023800u
#define RCC_CR BOARD_REG(RCC + 0x00u)
#define RCC_PLLCFGR BOARD_REG(RCC + 0x04u)
#define RCC_CFGR BOARD_REG(RCC + 0x08u)
#define RCC_AHB1ENR BOARD_REG(RCC + 0x30u)
#define RCC_APB1ENR BOARD_REG(RCC + 0x40u)
#define PWR_CR1 BOARD_REG(0x40007000u)
#define PWR_CSR1 BOARD_REG(0x40007004u)
#define FLASH_ACR BOARD_REG(0x40023C00u)
#define GPIOD 0x40020C00u
#define USART3 0x40004800u

#define HSI_HZ 16000000u
#define PLL_HZ 216000000u
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_APB1ENR_USART3EN (1u << 18)
#define RCC_APB1ENR_PWREN (1u << 28)
#define PWR_CR1_VOS_SCALE1 (3u << 14)
#define PWR_CR1_ODEN (1u << 16)
#define PWR_CR1_ODSWEN (1u << 17)
#define PWR_CSR1_ODRDY (1u << 16)
#define PWR_CSR1_ODSWRDY (1u << 17)
#define FLASH_ACR_ART ((1u << 8) | (1u << 9)) /* PRFTEN, ARTEN */
#define FLASH_WAIT_STATES 7u
#define CFGR_SW_PLL 2u
#define CFGR_SWS_PLL (2u << 2)
#define CFGR_APB1_DIV4 (5u << 10)
#define CFGR_APB2_DIV2 (4u << 13)

static void fall_back(struct board_clock *clock, const char *note) {
    clock->core_hz = HSI_HZ;
    clock->uart_hz = HSI_HZ;
    clock->note = note;
}

void board_clock_init(struct board_clock *clock) {
    FLASH_ACR = FLASH_ACR_ART;
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;
    PWR_CR1 |= PWR_CR1_VOS_SCALE1;
    /* PLLM 8, PLLN 216, PLLP /2 (0), PLLSRC HSI (0), PLLQ 9 (48 MHz) */
    RCC_PLLCFGR = 8u | (216u << 6) | (0u << 16) | (9u << 24);
    RCC_CR |= RCC_CR_PLLON;
    if (!board_wait(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY)) {
        fall_back(clock, "HSI 16 MHz (fell back: PLLRDY never set, no RCC model?)");
        return;
    }
    PWR_CR1 |= PWR_CR1_ODEN;
    if (!board_wait(&PWR_CSR1, PWR_CSR1_ODRDY, PWR_CSR1_ODRDY)) {
        fall_back(clock, "HSI 16 MHz (fell back: over-drive ODRDY never set)");
        return;
    }
    PWR_CR1 |= PWR_CR1_ODSWEN;
    if (!board_wait(&PWR_CSR1, PWR_CSR1_ODSWRDY, PWR_CSR1_ODSWRDY)) {
        fall_back(clock, "HSI 16 MHz (fell back: over-drive switch ODSWRDY never set)");
        return;
    }
    FLASH_ACR = FLASH_ACR_ART | FLASH_WAIT_STATES;
    if ((FLASH_ACR & 0xFu) != FLASH_WAIT_STATES) {
        fall_back(clock, "HSI 16 MHz (fell back: flash did not take 7 wait states)");
        return;
    }
    RCC_CFGR = (RCC_CFGR & ~0xFCF3u) | CFGR_APB1_DIV4 | CFGR_APB2_DIV2 | CFGR_SW_PLL;
    if (!board_wait(&RCC_CFGR, 3u << 2, CFGR_SWS_PLL)) {
        RCC_CFGR &= ~3u;
        fall_back(clock, "HSI 16 MHz (fell back: the switch to the PLL never showed in SWS)");
        return;
    }
    clock->core_hz = PLL_HZ;
    clock->uart_hz = PLL_HZ / 4u;
    clock->note = "PLL from HSI, 216 MHz, over-drive, 7 wait states, ART on";
}

void board_uart_init(uint32_t uart_hz) {
    RCC_AHB1ENR |= 1u << 3; /* GPIOD */
    RCC_APB1ENR |= RCC_APB1ENR_USART3EN;
    stm32_pin_alternate(GPIOD, 8u, 7u);
    stm32_pin_alternate(GPIOD, 9u, 7u);
    stm32_usart_isr_start(USART3, uart_hz, 1u);
}

void board_uart_putc(char c) { stm32_usart_isr_putc(USART3, c); }
