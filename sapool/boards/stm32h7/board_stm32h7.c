/* NUCLEO-H743ZI(2): STM32H743 to 480 MHz (400 MHz on revision Y silicon), console on USART3 (PD8 TX, PD9 RX,
 * AF7), the ST-LINK virtual COM port.
 *
 * Clock tree (RM0433 §8): LDO supply, voltage scale 1, then VOS0 through SYSCFG over-drive where the silicon is
 * revision V (DBGMCU_IDC REV_ID 0x2003: 480 MHz needs VOS0, §6.6.2); PLL1 from HSI 64 MHz / M 4 = 16 MHz
 * (input range 8-16 MHz, wide VCO) x N 60 = 960 MHz / P 2 = 480 MHz (N 50: 400 MHz at VOS1). D1 core /1, AXI/AHB
 * /2, every APB /2, so USART3's kernel clock (pclk1, the reset choice) is 120 MHz. Flash: 4 wait states with
 * WRHIGHFREQ 2 (§4.3.8, enough for either). The core's I- and D-caches come from m7_caches.c. Any ready flag that
 * does not come keeps the part on HSI 64 MHz.
 */
#include "board.h"
#include "stm32_usart.h"

#define RCC 0x58024400u
#define RCC_CR BOARD_REG(RCC + 0x000u)
#define RCC_CFGR BOARD_REG(RCC + 0x010u)
#define RCC_D1CFGR BOARD_REG(RCC + 0x018u)
#define RCC_D2CFGR BOARD_REG(RCC + 0x01Cu)
#define RCC_D3CFGR BOARD_REG(RCC + 0x020u)
#define RCC_PLLCKSELR BOARD_REG(RCC + 0x028u)
#define RCC_PLLCFGR BOARD_REG(RCC + 0x02Cu)
#define RCC_PLL1DIVR BOARD_REG(RCC + 0x030u)
#define RCC_AHB2ENR BOARD_REG(RCC + 0x0DCu)
#define RCC_AHB4ENR BOARD_REG(RCC + 0x0E0u)
#define RCC_APB1LENR BOARD_REG(RCC + 0x0E8u)
#define RCC_APB4ENR BOARD_REG(RCC + 0x0F4u)
#define PWR_CSR1 BOARD_REG(0x58024804u)
#define PWR_CR3 BOARD_REG(0x5802480Cu)
#define PWR_D3CR BOARD_REG(0x58024818u)
#define SYSCFG_PWRCR BOARD_REG(0x5800042Cu)
#define DBGMCU_IDC BOARD_REG(0x5C001000u)
#define FLASH_ACR BOARD_REG(0x52002000u)
#define GPIOD 0x58020C00u
#define USART3 0x40004800u

#define HSI_HZ 64000000u
#define PWR_CR3_SUPPLY_MASK 7u /* BYPASS, LDOEN, SCUEN */
#define PWR_CR3_LDOEN (1u << 1)
#define PWR_CSR1_ACTVOSRDY (1u << 13)
#define PWR_D3CR_VOS_SCALE1 (3u << 14)
#define PWR_D3CR_VOSRDY (1u << 13)
#define REVISION_V 0x2003u
#define RCC_CR_PLL1ON (1u << 24)
#define RCC_CR_PLL1RDY (1u << 25)
#define FLASH_ACR_SETTING (4u | (2u << 4)) /* LATENCY 4, WRHIGHFREQ 2 */
#define CFGR_SW_PLL1 3u
#define CFGR_SWS_PLL1 (3u << 3)

static void fall_back(struct board_clock *clock, const char *note) {
    clock->core_hz = HSI_HZ;
    clock->uart_hz = HSI_HZ;
    clock->note = note;
}

void board_clock_init(struct board_clock *clock) {
    RCC_AHB2ENR |= 7u << 29; /* the D2 domain's SRAM1, SRAM2, SRAM3, where a large plan puts arenas (§8.7.41) */
    PWR_CR3 = (PWR_CR3 & ~PWR_CR3_SUPPLY_MASK) | PWR_CR3_LDOEN;
    if (!board_wait(&PWR_CSR1, PWR_CSR1_ACTVOSRDY, PWR_CSR1_ACTVOSRDY)) {
        fall_back(clock, "HSI 64 MHz (fell back: ACTVOSRDY never set after the LDO supply setting, no PWR model?)");
        return;
    }
    PWR_D3CR |= PWR_D3CR_VOS_SCALE1;
    if (!board_wait(&PWR_D3CR, PWR_D3CR_VOSRDY, PWR_D3CR_VOSRDY)) {
        fall_back(clock, "HSI 64 MHz (fell back: VOSRDY never set for voltage scale 1)");
        return;
    }
    uint32_t multiplier = 50u; /* 400 MHz at VOS1 */
    if ((DBGMCU_IDC >> 16) == REVISION_V) {
        RCC_APB4ENR |= 1u << 1; /* SYSCFG */
        SYSCFG_PWRCR |= 1u; /* ODEN: VOS0 */
        if (board_wait(&PWR_D3CR, PWR_D3CR_VOSRDY, PWR_D3CR_VOSRDY)) {
            multiplier = 60u;
        }
    }
    FLASH_ACR = FLASH_ACR_SETTING;
    if ((FLASH_ACR & 0x3Fu) != FLASH_ACR_SETTING) {
        fall_back(clock, "HSI 64 MHz (fell back: flash did not take 4 wait states)");
        return;
    }
    RCC_PLLCKSELR = (RCC_PLLCKSELR & ~((0x3Fu << 4) | 3u)) | (4u << 4); /* HSI, DIVM1 4 */
    RCC_PLLCFGR = (RCC_PLLCFGR & ~0xFu) | (3u << 2) | (7u << 16); /* PLL1RGE 8-16 MHz, wide VCO, P/Q/R on */
    RCC_PLL1DIVR = (multiplier - 1u) | ((2u - 1u) << 9) | ((4u - 1u) << 16) | ((2u - 1u) << 24);
    RCC_CR |= RCC_CR_PLL1ON;
    if (!board_wait(&RCC_CR, RCC_CR_PLL1RDY, RCC_CR_PLL1RDY)) {
        fall_back(clock, "HSI 64 MHz (fell back: PLL1RDY never set)");
        return;
    }
    RCC_D1CFGR = (8u << 0) | (4u << 4); /* HPRE /2, D1PPRE /2, D1CPRE /1 */
    RCC_D2CFGR = (4u << 4) | (4u << 8); /* D2PPRE1 /2, D2PPRE2 /2 */
    RCC_D3CFGR = (4u << 4);              /* D3PPRE /2 */
    RCC_CFGR = (RCC_CFGR & ~7u) | CFGR_SW_PLL1;
    if (!board_wait(&RCC_CFGR, 7u << 3, CFGR_SWS_PLL1)) {
        RCC_CFGR &= ~7u;
        RCC_D1CFGR = 0u;
        RCC_D2CFGR = 0u;
        RCC_D3CFGR = 0u;
        fall_back(clock, "HSI 64 MHz (fell back: the switch to PLL1 never showed in SWS)");
        return;
    }
    clock->core_hz = multiplier * 8000000u;
    clock->uart_hz = clock->core_hz / 4u;
    clock->note = multiplier == 60u ? "PLL1 from HSI, 480 MHz, VOS0, 4 wait states"
                                    : "PLL1 from HSI, 400 MHz, VOS1 (not revision V silicon), 4 wait states";
}

void board_uart_init(uint32_t uart_hz) {
    RCC_AHB4ENR |= 1u << 3; /* GPIOD */
    RCC_APB1LENR |= 1u << 18; /* USART3 */
    stm32_pin_alternate(GPIOD, 8u, 7u);
    stm32_pin_alternate(GPIOD, 9u, 7u);
    stm32_usart_isr_start(USART3, uart_hz, 1u);
}

void board_uart_putc(char c) { stm32_usart_isr_putc(USART3, c); }
