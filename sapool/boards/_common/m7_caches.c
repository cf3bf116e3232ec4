/* board_init() for Cortex-M7 parts (STM32H7, STM32F7): invalidate and enable the instruction and data caches,
 * as CMSIS's SCB_EnableICache/SCB_EnableDCache do, so weights read from flash run at cache speed. The firmware
 * starts no DMA, so no cache maintenance is needed afterwards. Register addresses: Armv7-M ARM, System Control
 * Block and cache maintenance operations. QEMU accepts these writes and ignores them. */
#include <stdint.h>

#include "startup.h"

#define SCB_CCR (*(volatile uint32_t *)0xE000ED14u)
#define SCB_CCSIDR (*(volatile uint32_t *)0xE000ED80u)
#define SCB_CSSELR (*(volatile uint32_t *)0xE000ED84u)
#define SCB_ICIALLU (*(volatile uint32_t *)0xE000EF50u)
#define SCB_DCISW (*(volatile uint32_t *)0xE000EF60u)
#define CCR_DC (1u << 16)
#define CCR_IC (1u << 17)

static inline void barrier(void) { __asm__ volatile("dsb\n\tisb" ::: "memory"); }

void board_init(void) {
    barrier();
    SCB_ICIALLU = 0u;
    barrier();
    SCB_CCR |= CCR_IC;
    barrier();

    SCB_CSSELR = 0u; /* level 1 data cache */
    barrier();
    uint32_t geometry = SCB_CCSIDR;
    for (uint32_t set = (geometry >> 13) & 0x7FFFu;; --set) {
        for (uint32_t way = (geometry >> 3) & 0x3FFu;; --way) {
            SCB_DCISW = ((set << 5) & (0x1FFu << 5)) | ((way << 30) & (3u << 30));
            if (way == 0u) {
                break;
            }
        }
        if (set == 0u) {
            break;
        }
    }
    barrier();
    SCB_CCR |= CCR_DC;
    barrier();
}
