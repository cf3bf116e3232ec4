/* The STM32 pieces the board files share: a GPIO pin in alternate-function mode and the two USART register
 * layouts (F4's SR/DR USART, RM0390 §25.6; the ISR/TDR USART and LPUART of F7, H7 and L4, RM0385 §31.8, RM0433
 * §48.7, RM0432 §52.7). Transmit only, 8N1, no interrupts: the console writes one byte at a time. */
#ifndef SAPOOL_STM32_USART_H
#define SAPOOL_STM32_USART_H

#include <stdint.h>

#include "board.h"

#define GPIO_MODER(gpio) BOARD_REG((gpio) + 0x00u)
#define GPIO_OSPEEDR(gpio) BOARD_REG((gpio) + 0x08u)
#define GPIO_AFR(gpio, pin) BOARD_REG((gpio) + 0x20u + 4u * ((pin) / 8u))
#define USART_TXE (1u << 7)

static inline void stm32_pin_alternate(uint32_t gpio, uint32_t pin, uint32_t function) {
    uint32_t shift = (pin % 8u) * 4u;
    GPIO_AFR(gpio, pin) = (GPIO_AFR(gpio, pin) & ~(0xFu << shift)) | (function << shift);
    GPIO_OSPEEDR(gpio) |= 2u << (2u * pin); /* high speed */
    GPIO_MODER(gpio) = (GPIO_MODER(gpio) & ~(3u << (2u * pin))) | (2u << (2u * pin));
}

/* F4 USART: SR 0x00, DR 0x04, BRR 0x08, CR1 0x0C (UE bit 13, TE bit 3). BRR = kernel clock / baud (OVER8 = 0). */
static inline void stm32_usart_sr_start(uint32_t usart, uint32_t kernel_hz) {
    BOARD_REG(usart + 0x0Cu) = 0u;
    BOARD_REG(usart + 0x08u) = (kernel_hz + BOARD_UART_BAUD / 2u) / BOARD_UART_BAUD;
    BOARD_REG(usart + 0x0Cu) = (1u << 13) | (1u << 3);
}

static inline void stm32_usart_sr_putc(uint32_t usart, char c) {
    board_wait(&BOARD_REG(usart + 0x00u), USART_TXE, USART_TXE);
    BOARD_REG(usart + 0x04u) = (uint8_t)c;
}

/* F7/H7/L4 USART and LPUART: CR1 0x00 (UE bit 0, TE bit 3), BRR 0x0C, ISR 0x1C, TDR 0x28. BRR = kernel clock /
 * baud for a USART (OVER8 = 0), 256 x kernel clock / baud for an LPUART (`brr_scale` 256). */
static inline void stm32_usart_isr_start(uint32_t usart, uint32_t kernel_hz, uint32_t brr_scale) {
    BOARD_REG(usart + 0x00u) = 0u;
    uint64_t scaled = (uint64_t)kernel_hz * brr_scale;
    BOARD_REG(usart + 0x0Cu) = (uint32_t)((scaled + BOARD_UART_BAUD / 2u) / BOARD_UART_BAUD);
    BOARD_REG(usart + 0x00u) = (1u << 3);
    BOARD_REG(usart + 0x00u) = (1u << 3) | 1u;
}

static inline void stm32_usart_isr_putc(uint32_t usart, char c) {
    board_wait(&BOARD_REG(usart + 0x1Cu), USART_TXE, USART_TXE);
    BOARD_REG(usart + 0x28u) = (uint8_t)c;
}

#endif
