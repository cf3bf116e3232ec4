/* NUCLEO-L4R5ZI: STM32L4R5 to 120 MHz, console on LPUART1 (PG7 TX, PG8 RX, AF8), the ST-LINK virtual COM port.
 *
 * Clock tree (RM0432 §6): voltage range 1 in boost mode (R1MODE 0, needed above 80 MHz), 5 flash wait states
 * (§3.3.3), PLL from HSI16 / M 1 x N 15 = 240 MHz VCO / R 2 = 120 MHz; the switch to the PLL goes through AHB /2
 * for the boost transition (§6.2.9) and ends at AHB, APB1, APB2 /1, so LPUART1's kernel clock (pclk1, the reset
 * choice) is 120 MHz. The flash interface's instruction and data caches and prefetch are on. Port G pins 2-15
 * are powered from VDDIO2, which must be declared valid (PWR_CR2 IOSV) before PG7/PG8 drive anything. Any ready
 * flag that does not come keeps the part on MSI 4 MHz, its reset clock.
 */
#include "board.h"
#include "stm32_usart.h"

#define RCC 0x40021000u
#define RCC_CR BOARD_REG(RCC + 0x00u)
#define RCC_CFGR BOARD_REG(RCC + 0x08u)
#define RCC_PLLCFGR BOARD_REG(RCC + 0x0Cu)
#define RCC_AHB2ENR BOARD_REG(RCC + 0x4Cu)
#define RCC_APB1ENR1 BOARD_REG(RCC + 0x58u)
#define RCC_APB1ENR2 BOARD_REG(RCC + 0x5Cu)
#define PWR_CR1 BOARD_REG(0x40007000u)
#define PWR_CR2 BOARD_REG(0x40007004u)
#define PWR_SR2 BOARD_REG(0x40007014u)
#define PWR_CR5 BOARD_REG(0x40007080u)
#define FLASH_ACR BOARD_REG(0x40022000u)
#define GPIOG 0x48001800u
#define LPUART1 0x40008000u

#define MSI_HZ 4000000u
#define PLL_HZ 120000000u
#define RCC_CR_HSION (1u << 8)
#define RCC_CR_HSIRDY (1u << 10)
#define RCC_CR_PLLON (1u << 24)
#define RCC_CR_PLLRDY (1u << 25)
#define RCC_APB1ENR1_PWREN (1u << 28)
#define PWR_CR1_VOS_MASK (3u << 9)
#define PWR_CR1_VOS_RANGE1 (1u << 9)
#define PWR_SR2_VOSF (1u << 10)
#define PWR_CR5_R1MODE (1u << 8)
#define PWR_CR2_IOSV (1u << 9)
#define FLASH_ACR_CACHES ((1u << 8) | (1u << 9) | (1u << 10)) /* PRFTEN, ICEN, DCEN */
#define FLASH_WAIT_STATES 5u
#define CFGR_SW_PLL 3u
#define CFGR_SWS_PLL (3u << 2)
#define CFGR_HPRE_DIV2 (8u << 4)

static void fall_back(struct board_clock *clock, const char *note) {
    clock->core_hz = MSI_HZ;
    clock->uart_hz = MSI_HZ;
    clock->note = note;
}

void board_clock_init(struct board_clock *clock) {
    FLASH_ACR = (FLASH_ACR & ~0xFu) | FLASH_ACR_CACHES;
    RCC_APB1ENR1 |= RCC_APB1ENR1_PWREN;
    PWR_CR2 |= PWR_CR2_IOSV;
    RCC_CR |= RCC_CR_HSION;
    if (!board_wait(&RCC_CR, RCC_CR_HSIRDY, RCC_CR_HSIRDY)) {
        fall_back(clock, "MSI 4 MHz (fell back: HSIRDY never set, no RCC model?)");
        return;
    }
    PWR_CR1 = (PWR_CR1 & ~PWR_CR1_VOS_MASK) | PWR_CR1_VOS_RANGE1;
    PWR_CR5 &= ~PWR_CR5_R1MODE; /* range 1 boost */
    if (!board_wait(&PWR_SR2, PWR_SR2_VOSF, 0u)) {
        fall_back(clock, "MSI 4 MHz (fell back: VOSF never cleared for range 1 boost)");
        return;
    }
    FLASH_ACR = FLASH_ACR_CACHES | FLASH_WAIT_STATES;
    if ((FLASH_ACR & 0xFu) != FLASH_WAIT_STATES) {
        fall_back(clock, "MSI 4 MHz (fell back: flash did not take 5 wait states)");
        return;
    }
    /* PLLSRC HSI16 (2), PLLM /1 (0), PLLN 15, PLLR /2 (0) with PLLREN */
    RCC_PLLCFGR = 2u | (0u << 4) | (15u << 8) | (1u << 24);
    RCC_CR |= RCC_CR_PLLON;
    if (!board_wait(&RCC_CR, RCC_CR_PLLRDY, RCC_CR_PLLRDY)) {
        fall_back(clock, "MSI 4 MHz (fell back: PLLRDY never set)");
        return;
    }
    RCC_CFGR = (RCC_CFGR & ~(3u | (0xFu << 4) | (0x3Fu << 8))) | CFGR_HPRE_DIV2 | CFGR_SW_PLL;
    if (!board_wait(&RCC_CFGR, 3u << 2, CFGR_SWS_PLL)) {
        RCC_CFGR &= ~(3u | (0xFu << 4));
        fall_back(clock, "MSI 4 MHz (fell back: the switch to the PLL never showed in SWS)");
        return;
    }
    for (volatile uint32_t settle = 0; settle < 120u; ++settle) {
        /* at least 1 us at AHB /2 before the full-speed AHB (RM0432 §6.2.9) */
    }
    RCC_CFGR &= ~(0xFu << 4);
    clock->core_hz = PLL_HZ;
    clock->uart_hz = PLL_HZ;
    clock->note = "PLL from HSI16, 120 MHz, range 1 boost, 5 wait states, caches and prefetch on";
}

void board_uart_init(uint32_t uart_hz) {
    RCC_AHB2ENR |= 1u << 6; /* GPIOG */
    RCC_APB1ENR2 |= 1u << 0; /* LPUART1 */
    stm32_pin_alternate(GPIOG, 7u, 8u);
    stm32_pin_alternate(GPIOG, 8u, 8u);
    stm32_usart_isr_start(LPUART1, uart_hz, 256u);
}

void board_uart_putc(char c) { stm32_usart_isr_putc(LPUART1, c); }
