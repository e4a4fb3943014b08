/* The CMSDK APB UART 0: polled output, polled input, and the receive
 * interrupt enabled so that a byte wakes the idle loop (system.c). It
 * holds one received byte; QEMU hands it the next from the host only once
 * that one is read, so nothing is lost, only paced. */
#include <stdint.h>

#include "an385.h"

#define DATA 0x00u
#define STATE 0x04u /* bit 0 TX full, bit 1 RX full */
#define CTRL 0x08u  /* bit 0 TX enable, 1 RX enable, 3 RX interrupt enable */
#define INTCLEAR 0x0cu
#define BAUDDIV 0x10u
#define STATE_TXFULL 1u
#define STATE_RXFULL 2u

static uint32_t reg(uint32_t off)
{
    return mmio_read32(AN385_UART0 + off);
}

void hr_an385_uart_init(void)
{
    /* QEMU only uses the divisor to pace nothing; it must be at least 16. */
    mmio_write32(AN385_UART0 + BAUDDIV, AN385_SYSCLK_HZ / 115200);
    mmio_write32(AN385_UART0 + CTRL, 1u | 2u | 8u);
}

void hr_board_uart_write(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (reg(STATE) & STATE_TXFULL)
            ;
        mmio_write32(AN385_UART0 + DATA, (uint8_t)data[i]);
    }
}

int hr_an385_uart_ready(void)
{
    return (reg(STATE) & STATE_RXFULL) != 0;
}

int hr_board_uart_getc(void)
{
    return hr_an385_uart_ready() ? (int)(reg(DATA) & 0xffu) : -1;
}

/* The receive interrupt's status, cleared before the idle loop looks. */
void hr_an385_uart_ack(void)
{
    mmio_write32(AN385_UART0 + INTCLEAR, 2u);
}
