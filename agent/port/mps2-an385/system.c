/* The Cortex-M3's side of the board: the clock (the FPGA's counter), the
 * idle wait (wfi, woken by the UART, the Ethernet controller or a timer),
 * faults (the constructor guard, or a last word on the UART), and the end
 * of the run (semihosting). Interrupts stay masked: PRIMASK is set at
 * reset and never cleared, and wfi still wakes for a pending one. */
#include <stdint.h>

#include "../../core/fmt.h"
#include "an385.h"

#define FPGAIO_COUNTER (AN385_FPGAIO + 0x18u)
#define FPGAIO_PRESCALE (AN385_FPGAIO + 0x1cu)
#define TIMER_CTRL (AN385_TIMER0 + 0x0u) /* bit 0 enable, bit 3 interrupt enable */
#define TIMER_VALUE (AN385_TIMER0 + 0x4u)
#define TIMER_RELOAD (AN385_TIMER0 + 0x8u)
#define TIMER_INTCLEAR (AN385_TIMER0 + 0xcu)
#define TICKS_PER_MS (AN385_SYSCLK_HZ / 1000u)
#define WAKE_IRQS (1u << AN385_IRQ_UART0_RX | 1u << AN385_IRQ_TIMER0 | 1u << AN385_IRQ_ETH)

void hr_an385_system_init(void)
{
    /* The counter counts microseconds: the 25 MHz clock divided by 25. */
    mmio_write32(FPGAIO_PRESCALE, AN385_SYSCLK_HZ / 1000000u - 1u);
    /* MemManage, BusFault and UsageFault enabled (they escalate to
     * HardFault all the same while PRIMASK is set: fault_name). */
    mmio_write32(SCB_SHCSR, mmio_read32(SCB_SHCSR) | 7u << 16);
    /* The thread stack's guard: 4 KiB no access (region 0; a frame of a
     * few KiB would step over a smaller one), everything else the default
     * memory map (PRIVDEFENA). */
    mmio_write32(MPU_RNR, 0);
    mmio_write32(MPU_RBAR, (uint32_t)(uintptr_t)__stack_guard);
    mmio_write32(MPU_RASR, 1u << 28 | 11u << 1 | 1u); /* XN, 2^(11+1) bytes, no access */
    mmio_write32(MPU_CTRL, 1u << 2 | 1u);
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    hr_an385_uart_init(); /* main() may print before it starts the console */
    mmio_write32(NVIC_ISER0, WAKE_IRQS);
}

/* The 32-bit microsecond counter, widened: it wraps every 71 minutes, and
 * the main loop reads the clock far more often than that. */
static uint64_t now_us(void)
{
    static uint32_t last;
    static uint64_t high;
    uint32_t c = mmio_read32(FPGAIO_COUNTER);
    if (c < last)
        high += 1ull << 32;
    last = c;
    return high | c;
}

uint64_t hr_board_now_ms(void)
{
    return now_us() / 1000u;
}

/* TIMER1, free-running from its first use, 25 ticks a microsecond, counts
 * down; its ticks are widened as the clock's counter is (it wraps every
 * 171 s of virtual time, far more than between two readings around what
 * is measured), so that instructions wrap at 2^32 as the result does. */
uint32_t hr_board_icount(void)
{
    static int started;
    static uint32_t last;
    static uint64_t high;
    if (!started) {
        mmio_write32(AN385_TIMER1 + 0x8u, 0xffffffffu); /* reload */
        mmio_write32(AN385_TIMER1 + 0x4u, 0xffffffffu); /* value */
        mmio_write32(AN385_TIMER1, 1u);                 /* enable, no interrupt */
        started = 1;
    }
    uint32_t ticks = 0xffffffffu - mmio_read32(AN385_TIMER1 + 0x4u);
    if (ticks < last)
        high += 1ull << 32;
    last = ticks;
    return (uint32_t)((high | ticks) * 5u / 8u);
}

static void clear_wakeups(void)
{
    mmio_write32(TIMER_CTRL, 0);
    mmio_write32(TIMER_INTCLEAR, 1);
    hr_an385_uart_ack();
    mmio_write32(NVIC_ICPR0, 1u << AN385_IRQ_UART0_RX | 1u << AN385_IRQ_TIMER0);
}

/* The device's pending bits are cleared before the UART is looked at, so
 * a byte arriving after the look pends its interrupt again and wfi does
 * not sleep past it. The Ethernet controller's pending bit is its
 * driver's to clear, once it has taken the frames: while it is set, return
 * at once. */
void hr_board_idle_until(uint64_t deadline_ms)
{
    for (;;) {
        clear_wakeups();
        uint32_t eth = mmio_read32(NVIC_ICPR0) & 1u << AN385_IRQ_ETH;
        uint64_t now = now_us(), end = deadline_ms * 1000u;
        if (eth || hr_an385_uart_ready() || now >= end)
            return;
        uint64_t us = end - now;
        if (us > 100000000u)
            us = 100000000u; /* within the 32-bit timer at 25 ticks a microsecond */
        uint32_t ticks = (uint32_t)us * (AN385_SYSCLK_HZ / 1000000u);
        mmio_write32(TIMER_RELOAD, ticks); /* (a reload of 0 would stop QEMU's timer) */
        mmio_write32(TIMER_VALUE, ticks);
        mmio_write32(TIMER_CTRL, 1u | 8u);
        __asm__ volatile("dsb\n\twfi" ::: "memory");
    }
}

static const char *const exc_names[] = {
    "exception 0", "reset", "NMI", "HardFault", "MemManage fault", "BusFault", "UsageFault",
    "exception 7", "exception 8", "exception 9", "exception 10", "SVCall", "DebugMonitor",
    "exception 13", "PendSV", "SysTick"};

/* What the Configurable Fault Status Register says, the first cause it names. */
static const char *cfsr_cause(uint32_t cfsr)
{
    static const struct { uint32_t bit; const char *what; } causes[] = {
        {1u << 0, "instruction fetch from a no-execute or protected address"},
        {1u << 1, "data access violation"},
        {1u << 4, "exception stacking failed"},
        {1u << 8, "instruction fetch bus error"},
        {1u << 9, "precise data bus error"},
        {1u << 10, "imprecise data bus error"},
        {1u << 16, "undefined instruction"},
        {1u << 17, "invalid state (a branch to an address without the Thumb bit)"},
        {1u << 18, "invalid exception return"},
        {1u << 19, "no coprocessor"},
        {1u << 24, "unaligned access"},
        {1u << 25, "division by zero"},
    };
    for (unsigned i = 0; i < sizeof causes / sizeof causes[0]; i++)
        if (cfsr & causes[i].bit)
            return causes[i].what;
    return "no cause recorded";
}

/* Whether the fault is the thread stack running into its guard: the
 * exception's own stacking failed, or an access hit the guard. */
static int stack_overflow(uint32_t cfsr)
{
    uint32_t guard = (uint32_t)(uintptr_t)__stack_guard, at = mmio_read32(SCB_MMFAR);
    return (cfsr & 1u << 4) || ((cfsr & 0x82u) == 0x82u && at - guard < 4096u);
}

/* Faults come as HardFault: with PRIMASK set a configurable fault cannot
 * preempt and escalates (HFSR.FORCED). The CFSR still says which it was. */
static const char *fault_name(uint32_t exc, uint32_t cfsr, uint32_t hfsr)
{
    if (exc == 3 && (hfsr & 1u << 30) && cfsr)
        exc = cfsr & 0xffu ? 4 : cfsr & 0xff00u ? 5 : 6;
    return exc < 16 ? exc_names[exc] : "interrupt";
}

void hr_an385_describe_fault(char *buf, size_t size, uint32_t exc, uint32_t pc)
{
    uint32_t cfsr = mmio_read32(SCB_CFSR), hfsr = mmio_read32(SCB_HFSR);
    uint32_t addr = cfsr & 0x80u ? mmio_read32(SCB_MMFAR)
                    : cfsr & 0x8000u ? mmio_read32(SCB_BFAR) : 0;
    hr_fmt(buf, size, "%s: %s at pc %#x (CFSR %#x, HFSR %#x, fault address %#x)%s",
           fault_name(exc, cfsr, hfsr), cfsr_cause(cfsr), (unsigned)pc, (unsigned)cfsr,
           (unsigned)hfsr, (unsigned)addr, stack_overflow(cfsr) ? ": stack overflow" : "");
    /* The status bits are sticky: cleared, so the next fault reads its own. */
    mmio_write32(SCB_CFSR, cfsr);
    mmio_write32(SCB_HFSR, hfsr);
}

void hr_an385_fault(struct hr_an385_frame *f, uint32_t exc, uint32_t exc_return)
{
    struct hr_board_guard *g = hr_board_guard_active;
    int stacked = !(mmio_read32(SCB_CFSR) & 1u << 4); /* the frame was written */
    exc &= 0x1ffu;
    /* From thread mode (EXC_RETURN bit 3) under a guard: resume at the save. */
    if (g && stacked && exc >= 3 && exc <= 6 && (exc_return & 8u)) {
        hr_an385_describe_fault(g->why, g->whysize, exc, f->pc);
        hr_board_guard_active = g->prev;
        f->pc = (uint32_t)(uintptr_t)hr_board_guard_resume & ~1u;
        f->r0 = (uint32_t)(uintptr_t)g->regs;
        f->xpsr = 1u << 24; /* Thumb, nothing else pending in it */
        return;
    }
    char what[200];
    hr_an385_describe_fault(what, sizeof what, exc, stacked ? f->pc : 0);
    hr_board_printf("\nmps2-an385: fatal %s; lr %#x sp %#x\n", what, stacked ? (unsigned)f->lr : 0,
                    (unsigned)(uintptr_t)(f + 1));
    hr_board_exit(3);
}

/* Semihosting SYS_EXIT_EXTENDED: QEMU ends with the code as its status
 * (QEMU runs the board with -semihosting-config enable=on; the boot script
 * gives it). */
__attribute__((noreturn)) void hr_board_exit(int code)
{
    uint32_t block[2] = {0x20026u /* ADP_Stopped_ApplicationExit */, (uint32_t)code};
    register uint32_t r0 __asm__("r0") = 0x20u;
    register uint32_t r1 __asm__("r1") = (uint32_t)(uintptr_t)block;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    for (;;)
        __asm__ volatile("wfi");
}
