/* Machine mode: the small monitor under the supervisor-mode firmware. It
 * sets up memory protection and paging at boot, then serves traps: the
 * idle service (wfi until a deadline or UART input), recovery from a trap
 * under the constructor guard, and a last word on the UART for any other
 * trap before the QEMU run ends. */
#include <stdint.h>

#include "../../core/fmt.h"
#include "hotreload_board.h"
#include "virt.h"

#define MIE_MTIE (1u << 7)
#define MIE_MEIE (1u << 11)
#define PLIC_PRIORITY(irq) (VIRT_PLIC + 4u * (irq))
#define PLIC_ENABLE_M0 (VIRT_PLIC + 0x2000u)     /* context 0: hart 0, machine mode */
#define PLIC_THRESHOLD_M0 (VIRT_PLIC + 0x200000u)
#define PLIC_CLAIM_M0 (VIRT_PLIC + 0x200004u)

static void set_mtimecmp(uint64_t t)
{
    /* High word first parked at the maximum: no moment with a low compare. */
    mmio_write32(VIRT_MTIMECMP + 4, 0xffffffffu);
    mmio_write32(VIRT_MTIMECMP, (uint32_t)t);
    mmio_write32(VIRT_MTIMECMP + 4, (uint32_t)(t >> 32));
}

void hr_rv32_machine_init(void)
{
    /* Supervisor mode may touch everything; the page tables decide. */
    __asm__ volatile("csrw pmpaddr0, %0" ::"r"(0xffffffffu));
    __asm__ volatile("csrw pmpcfg0, %0" ::"r"(0x1fu)); /* NAPOT, RWX */
    csr_write(medeleg, 0);
    csr_write(mideleg, 0);
    csr_write(mcounteren, 7); /* cycle, time, instret readable below */
    set_mtimecmp(UINT64_MAX);
    hr_rv32_uart_init(); /* main() may print before it starts the console */
    mmio_write32(PLIC_PRIORITY(VIRT_UART_IRQ), 1);
    /* The virtio-mmio slots' interrupts too: received frames wake idle. */
    for (uint32_t irq = VIRT_VIRTIO_IRQ0; irq < VIRT_VIRTIO_IRQ0 + 8; irq++)
        mmio_write32(PLIC_PRIORITY(irq), 1);
    mmio_write32(PLIC_ENABLE_M0, 1u << VIRT_UART_IRQ | 0xffu << VIRT_VIRTIO_IRQ0);
    mmio_write32(PLIC_THRESHOLD_M0, 0);
    csr_write(satp, hr_rv32_paging_init());
    __asm__ volatile("sfence.vma" ::: "memory");
}

/* Interrupts stay masked (mstatus.MIE is 0 in machine mode): wfi returns
 * once one is pending, and nothing is taken. The PLIC's pending bit is
 * cleared before the UART is looked at, so a byte arriving after the look
 * pends it again and wfi does not sleep past it. */
static void idle(uint64_t deadline)
{
    for (;;) {
        uint32_t irq = mmio_read32(PLIC_CLAIM_M0);
        if (irq)
            mmio_write32(PLIC_CLAIM_M0, irq);
        /* A device other than the UART (virtio-net) stays pending until
         * the supervisor's driver acknowledges it: wake for it at once. */
        if ((irq && irq != VIRT_UART_IRQ) || hr_rv32_uart_ready() || virt_mtime() >= deadline)
            break;
        set_mtimecmp(deadline);
        csr_write(mie, MIE_MTIE | MIE_MEIE);
        __asm__ volatile("wfi");
        csr_write(mie, 0);
    }
    set_mtimecmp(UINT64_MAX);
}

static const char *cause_name(uint32_t cause)
{
    static const char *const names[] = {
        "instruction address misaligned", "instruction access fault", "illegal instruction",
        "breakpoint", "load address misaligned", "load access fault",
        "store address misaligned", "store access fault", "ecall from user mode",
        "ecall from supervisor mode", "exception 10", "ecall from machine mode",
        "instruction page fault", "load page fault", "exception 14", "store page fault"};
    return cause < sizeof names / sizeof names[0] ? names[cause] : "unknown exception";
}

static int in_pool(uint32_t a)
{
    return a >= (uint32_t)(uintptr_t)__heap_start && a < (uint32_t)(uintptr_t)__heap_end;
}

void hr_rv32_describe_trap(char *buf, size_t size, uint32_t cause, uint32_t pc, uint32_t tval)
{
    /* The two faults a broken I/D split gives get their meaning spelled out. */
    const char *hint = "";
    if (cause == 12 && in_pool(pc))
        hint = ": code run at its data address; module code executes at the data address "
               "minus 0x40000000";
    else if (cause == 15 && in_pool(tval + HR_RV32_IBUS_OFFSET))
        hint = ": a write through the instruction-bus alias of module code";
    else if (cause == 15 && tval >= (uint32_t)(uintptr_t)__stack_guard &&
             tval < (uint32_t)(uintptr_t)__stack_bottom)
        hint = ": stack overflow";
    hr_fmt(buf, size, "%s at pc %#x (mcause %u, mtval %#x)%s", cause_name(cause), (unsigned)pc,
           (unsigned)cause, (unsigned)tval, hint);
}

static void fatal(const struct hr_rv32_frame *f, uint32_t cause, uint32_t tval, uint32_t from)
{
    char what[200];
    hr_rv32_describe_trap(what, sizeof what, cause, f->x[0], tval);
    hr_board_printf("\nrv32-virt: fatal trap in %s mode: %s; ra %#x sp %#x\n",
                   from == 3 ? "machine" : "supervisor", what, (unsigned)f->x[1],
                   (unsigned)f->x[2]);
    hr_board_exit(3);
}

void hr_rv32_trap(struct hr_rv32_frame *f)
{
    uint32_t cause = csr_read(mcause), tval = csr_read(mtval);
    uint32_t from = (csr_read(mstatus) >> 11) & 3;
    if (cause & 0x80000000u)
        return; /* interrupts are never enabled where they could be taken */
    if (cause == 9 && from == 1) {
        f->x[0] += 4;
        if (f->x[17] == HR_RV32_ECALL_IDLE)
            idle((uint64_t)f->x[11] << 32 | f->x[10]);
        return;
    }
    struct hr_board_guard *g = hr_board_guard_active;
    if (from == 1 && g) {
        hr_rv32_describe_trap(g->why, g->whysize, cause, f->x[0], tval);
        hr_board_guard_active = g->prev;
        f->x[0] = (uint32_t)(uintptr_t)hr_board_guard_resume;
        f->x[10] = (uint32_t)(uintptr_t)g->regs;
        return;
    }
    fatal(f, cause, tval, from);
}

__attribute__((noreturn)) void hr_board_exit(int code)
{
    /* sifive_test: 0x5555 passes, (code << 16) | 0x3333 fails with code. */
    mmio_write32(VIRT_TEST, code ? (uint32_t)code << 16 | 0x3333u : 0x5555u);
    for (;;)
        __asm__ volatile("wfi");
}
