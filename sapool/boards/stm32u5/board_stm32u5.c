/* NUCLEO-U575ZI-Q: STM32U575 to 160 MHz, console on USART1 (PA9 TX, PA10 RX, AF7), the ST-LINK virtual COM port.
 * TrustZone is off (the board's delivery state), so every register is at its non-secure address.
 *
 * Clock tree (RM0456 §10-11): voltage range 1 with the EPOD booster (needed above 55 MHz; its clock is PLL1's
 * 16 MHz input, PLL1MBOOST /1), 4 flash wait states with prefetch (§7.3.3), PLL1 from HSI16 / M 1 (input range
 * 8-16 MHz) x N 20 = 320 MHz VCO / R 2 = 160 MHz; AHB, APB1, APB2 /1, so USART1's kernel clock (pclk2, the reset
 * choice) is 160 MHz. The 8 KB instruction cache (ICACHE) is turned on. DWT counts cycles (Armv8-M mainline). Any
 * ready flag that does not come keeps the part on MSIS 4 MHz, its reset clock.
 */
#include "board.h"
#include "stm32_usart.h"

#define RCC 0x46020C00u
#define RCC_CR BOARD_REG(RCC + 0x000u)
#define RCC_CFGR1 BOARD_REG(RCC + 0x01Cu)
#define RCC_CFGR2 BOARD_REG(RCC + 0x020u)
#define RCC_PLL1CFGR BOARD_REG(RCC + 0x028u)
#define RCC_PLL1DIVR BOARD_REG(RCC + 0x034u)
#define RCC_AHB2ENR1 BOARD_REG(RCC + 0x08Cu)
#define RCC_AHB3ENR BOARD_REG(RCC + 0x094u)
#define RCC_APB2ENR BOARD_REG(RCC + 0x0A4u)
#define PWR_VOSR BOARD_REG(0x4602080Cu)
#define FLASH_ACR BOARD_REG(0x40022000u)
#define ICACHE_CR BOARD_REG(0x40030400u)
#define GPIOA 0x42020000u
#define USART1 0x40013800u

#define MSIS_HZ 4000000u
#define PLL_HZ 160000000u
#define RCC_CR_HSION (1u << 8)
#define RCC_CR_HSIRDY (1u << 10)
#define RCC_CR_PLL1ON (1u << 24)
#define RCC_CR_PLL1RDY (1u << 25)
#define PWR_VOSR_RANGE1_BOOST ((3u << 16) | (1u << 18)) /* VOS range 1, BOOSTEN */
#define PWR_VOSR_READY ((1u << 15) | (1u << 14))        /* VOSRDY, BOOSTRDY */
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_WAIT_STATES 4u
#define CFGR1_SW_PLL1 3u
#define CFGR1_SWS_PLL1 (3u << 2)

static void fall_back(struct board_clock *clock, const char *note) {
    clock->core_hz = MSIS_HZ;
    clock->uart_hz = MSIS_HZ;
    clock->note = note;
}

void board_clock_init(struct board_clock *clock) {
    ICACHE_CR |= 1u;
    RCC_AHB3ENR |= 1u << 2; /* PWR */
    RCC_CR |= RCC_CR_HSION;
    if (!board_wait(&RCC_CR, RCC_CR_HSIRDY, RCC_CR_HSIRDY)) {
        fall_back(clock, "MSIS 4 MHz (fell back: HSIRDY never set, no RCC model?)");
        return;
    }
    /* PLL1SRC HSI16 (2), PLL1RGE 8-16 MHz (3), PLL1M /1 (0), PLL1MBOOST /1 (0), PLL1REN */
    RCC_PLL1CFGR = 2u | (3u << 2) | (1u << 18);
    PWR_VOSR = (PWR_VOSR & ~(7u << 16)) | PWR_VOSR_RANGE1_BOOST;
    if (!board_wait(&PWR_VOSR, PWR_VOSR_READY, PWR_VOSR_READY)) {
        fall_back(clock, "MSIS 4 MHz (fell back: VOSRDY/BOOSTRDY never set for range 1 with the booster)");
        return;
    }
    FLASH_ACR = (FLASH_ACR & ~0xFu) | FLASH_ACR_PRFTEN | FLASH_WAIT_STATES;
    if ((FLASH_ACR & 0xFu) != FLASH_WAIT_STATES) {
        fall_back(clock, "MSIS 4 MHz (fell back: flash did not take 4 wait states)");
        return;
    }
    RCC_PLL1DIVR = (20u - 1u) | ((2u - 1u) << 9) | ((2u - 1u) << 16) | ((2u - 1u) << 24); /* N 20, P/Q/R 2 */
    RCC_CR |= RCC_CR_PLL1ON;
    if (!board_wait(&RCC_CR, RCC_CR_PLL1RDY, RCC_CR_PLL1RDY)) {
        fall_back(clock, "MSIS 4 MHz (fell back: PLL1RDY never set)");
        return;
    }
    RCC_CFGR2 &= ~((0xFu << 0) | (7u << 4) | (7u << 8)); /* AHB, APB1, APB2 /1 */
    RCC_CFGR1 = (RCC_CFGR1 & ~3u) | CFGR1_SW_PLL1;
    if (!board_wait(&RCC_CFGR1, 3u << 2, CFGR1_SWS_PLL1)) {
        RCC_CFGR1 &= ~3u;
        fall_back(clock, "MSIS 4 MHz (fell back: the switch to PLL1 never showed in SWS)");
        return;
    }
    clock->core_hz = PLL_HZ;
    clock->uart_hz = PLL_HZ;
    clock->note = "PLL1 from HSI16, 160 MHz, range 1 with booster, 4 wait states, ICACHE and prefetch on";
}

void board_uart_init(uint32_t uart_hz) {
    RCC_AHB2ENR1 |= 1u << 0; /* GPIOA */
    RCC_APB2ENR |= 1u << 14; /* USART1 */
    stm32_pin_alternate(GPIOA, 9u, 7u);
    stm32_pin_alternate(GPIOA, 10u, 7u);
    stm32_usart_isr_start(USART1, uart_hz, 1u);
}

void board_uart_putc(char c) { stm32_usart_isr_putc(USART1, c); }
