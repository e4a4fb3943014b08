/* The 16550 UART: polled output, polled input, and the receive interrupt
 * enabled so that a byte wakes the idle loop (machine.c) through the PLIC.
 */
#include <stdint.h>

#include "virt.h"

#define RBR 0 /* receive buffer (read) */
#define THR 0 /* transmit holding (write) */
#define IER 1
#define DLL 0 /* with the divisor latch on */
#define DLM 1
#define FCR 2
#define LCR 3
#define LSR 5
#define LSR_DR 0x01
#define LSR_THRE 0x20

static volatile uint8_t *const uart = (volatile uint8_t *)VIRT_UART;

void hr_rv32_uart_init(void)
{
    uart[LCR] = 0x80; /* divisor latch: 115200 baud (QEMU only times its FIFO timeout by it) */
    uart[DLL] = 1;
    uart[DLM] = 0;
    uart[LCR] = 0x03; /* 8N1 */
    /* FIFOs on and cleared, receive interrupt at 14 bytes (or a few
     * character times after the last): QEMU hands the FIFO as many bytes
     * at once as that level leaves room for, one at a time otherwise. */
    uart[FCR] = 0xc7;
    uart[IER] = 0x01; /* received data available */
}

void hr_board_uart_write(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (!(uart[LSR] & LSR_THRE))
            ;
        uart[THR] = (uint8_t)data[i];
    }
}

int hr_rv32_uart_ready(void)
{
    return uart[LSR] & LSR_DR;
}

int hr_board_uart_getc(void)
{
    return uart[LSR] & LSR_DR ? uart[RBR] : -1;
}
