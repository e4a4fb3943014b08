/* The lx106 test firmware: loads the calc module from memory with the
 * loader core, calls it through the call0 stubs `hotd stubs` generated,
 * reloads a changed version bound ahead by `hotd bind --absolute`, and
 * refuses broken modules while the running one keeps answering. Results
 * go to the host through semihosting; the exit status is 0 only if every
 * check passed. */
#include <string.h>

#include "calc.h"
#include "check.h"
#include "hotreload.h"
#include "hotreload/loader.h"
#include "port.h"

int checks_passed, checks_failed;

extern const struct hotreload_symtab hotreload_symtab_calc;
extern const uint8_t img_calc_v1[], img_calc_v1_end[], img_bad_import[], img_bad_import_end[],
    img_short_call[], img_short_call_end[], __bound_start[], __bound_end[];
extern char __bss_start[], __bss_end[];

int fw_main(void);
void fw_trap(uint32_t vector, uint32_t cause, uint32_t pc, uint32_t vaddr);

/* ---- the symbol table the stubs read, filled as the runtime's swap does ---- */

static uint32_t unloaded_calls, unloaded_slot;

void hotreload_unloaded_call(const struct hotreload_symtab *st, uint32_t slot)
{
    (void)st;
    unloaded_calls++;
    unloaded_slot = slot;
}

/* Fill table `which` from the module's exports, then switch every stub to
 * it with one store. */
static int use_module(const struct hr_module *mod, int which)
{
    const struct hotreload_symtab *st = &hotreload_symtab_calc;
    hotreload_fn_t *t = st->tables[which];
    for (uint32_t i = 0; i < st->count; i++) {
        const struct hr_export_info *e = hr_module_lookup(mod, st->names[i]);
        CHECK(e && e->kind == HR_EXPORT_FUNC, "the module exports no function %s",
              st->names[i]);
        if (!e)
            return -1;
        t[i] = (hotreload_fn_t)(uintptr_t)e->addr;
    }
    *st->table_ptr = t;
    return 0;
}

static void unuse_module(void)
{
    *hotreload_symtab_calc.table_ptr = hotreload_symtab_calc.unloaded;
}

void check_unloaded(void)
{
    uint32_t before = unloaded_calls;
    CHECK(calc_version() == 0, "unloaded calc_version = %d", (int)calc_version());
    CHECK(calc_sum10(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) == 0, "unloaded calc_sum10 returns 0");
    CHECK(unloaded_calls == before + 2, "unloaded calls counted: %u", (unsigned)unloaded_calls);
    CHECK(!strcmp(hotreload_symtab_calc.names[unloaded_slot], "calc_sum10"),
          "the last unloaded call was slot %u", (unsigned)unloaded_slot);
}

/* ---- loading ---- */

static struct hr_module *load(const void *img, size_t size, hr_resolve_fn resolve, void *ctx,
                              struct hr_error *err)
{
    struct hr_load_config cfg = {.arch = HR_ARCH_XTENSA, .port = &fw_port,
                                 .resolve = resolve, .resolve_ctx = ctx};
    struct hr_module *mod = NULL;
    err->status = HR_OK;
    err->msg[0] = '\0';
    return hr_module_load(&cfg, img, size, &mod, err) == HR_OK ? mod : NULL;
}

static void report(const char *what, const struct hr_module *mod, size_t size)
{
    uint64_t bytes[HR_REGION_COUNT] = {0};
    hr_addr_t text = 0;
    for (size_t i = 0; i < hr_module_section_count(mod); i++) {
        const struct hr_section_info *s = hr_module_section(mod, i);
        if (s->kind == HR_REGION_TEXT && (!text || s->addr < text))
            text = s->addr;
        bytes[s->kind] += s->size;
    }
    say("%s: image %zu bytes, %zu sections placed (text %u at %#x, rodata %u, data %u, "
        "bss %u), %zu imports, %zu exports\n", what, size, hr_module_section_count(mod),
        (unsigned)bytes[HR_REGION_TEXT], (unsigned)text, (unsigned)bytes[HR_REGION_RODATA],
        (unsigned)(bytes[HR_REGION_DATA] + bytes[HR_REGION_SDATA]),
        (unsigned)bytes[HR_REGION_BSS], hr_module_import_count(mod),
        hr_module_export_count(mod));
    const struct hr_reloc_count *rc;
    size_t n = hr_module_reloc_stats(mod, &rc);
    say("%s: relocations applied:", what);
    for (size_t i = 0; i < n; i++)
        say(" %s %u", hr_reloc_name(HR_ARCH_XTENSA, rc[i].type), (unsigned)rc[i].count);
    say("\n");
}

static hr_addr_t text_addr(const struct hr_module *mod)
{
    const struct hr_export_info *e = hr_module_lookup(mod, "calc_version");
    return e ? e->addr : 0;
}

static int contains(const char *s, const char *part)
{
    size_t n = strlen(part);
    for (; *s; s++)
        if (!strncmp(s, part, n))
            return 1;
    return 0;
}

/* A broken module: refused with a message naming the cause, nothing left
 * allocated, the running module untouched. */
static void refused(const char *what, const void *img, size_t size, enum hr_status want,
                    const char *cause)
{
    struct fw_usage before = fw_usage();
    struct hr_error err;
    struct hr_module *mod = load(img, size, fw_resolve, NULL, &err);
    say("refused %s: %s: %s\n", what, hr_status_name(err.status), err.msg);
    CHECK(!mod && err.status == want, "%s: status %s, want %s", what,
          hr_status_name(err.status), hr_status_name(want));
    CHECK(contains(err.msg, cause), "%s: the message does not name '%s'", what, cause);
    struct fw_usage after = fw_usage();
    CHECK(after.blocks == before.blocks && after.regions == before.regions,
          "%s: left %u blocks and %u regions allocated", what,
          (unsigned)(after.blocks - before.blocks), (unsigned)(after.regions - before.regions));
    CHECK(calc_version() == 2 && calc_near(5) == 52, "%s: the running module stopped", what);
    hr_module_free(mod);
}

static uint8_t scratch[32 * 1024] __attribute__((aligned(4)));

static void check_refusals(void)
{
    refused("bad_import", img_bad_import, (size_t)(img_bad_import_end - img_bad_import),
            HR_E_UNRESOLVED, "'fw_missing'");
    refused("short_call", img_short_call, (size_t)(img_short_call_end - img_short_call),
            HR_E_RANGE, "-mlongcalls");

    size_t size = (size_t)(img_calc_v1_end - img_calc_v1);
    CHECK(size <= sizeof scratch, "calc v1 (%zu bytes) fits the scratch buffer", size);
    if (size > sizeof scratch)
        return;
    refused("truncated", img_calc_v1, size / 2, HR_E_FORMAT, "section");
    memcpy(scratch, img_calc_v1, size);
    scratch[18] = 243; /* e_machine: RISC-V */
    scratch[19] = 0;
    refused("riscv_machine", scratch, size, HR_E_ARCH, "machine");
    fw_fail_region_after(1);
    refused("out_of_memory", img_calc_v1, size, HR_E_NOMEM, "region");
}

/* ---- the run ---- */

/* From fw/start.S's vectors. `pc` is EPC1, the faulting instruction for
 * the kernel and user vectors the firmware's exceptions take. */
void fw_trap(uint32_t vector, uint32_t cause, uint32_t pc, uint32_t vaddr)
{
    say("TRAP: vector %#x, EXCCAUSE %u at pc %#x (address %#x), after %d checks passed and "
        "%d failed\n", (unsigned)vector, (unsigned)cause, (unsigned)pc, (unsigned)vaddr,
        checks_passed, checks_failed);
    sim_exit(3);
}

int fw_main(void)
{
    memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));
    say("xtensa: lx106 firmware, module calc through %u call0 stubs\n",
        (unsigned)hotreload_symtab_calc.count);
    check_unloaded();

    /* Version 1: imports resolved by name through the firmware's table. */
    struct hr_error err;
    size_t v1_size = (size_t)(img_calc_v1_end - img_calc_v1);
    struct hr_module *v1 = load(img_calc_v1, v1_size, fw_resolve, NULL, &err);
    CHECK(v1 != NULL, "load calc v1: %s: %s", hr_status_name(err.status), err.msg);
    if (!v1 || use_module(v1, 0) != 0)
        sim_exit(1);
    report("calc v1", v1, v1_size);
    hr_addr_t v1_text = text_addr(v1);
    check_fresh(1);
    check_calc(1);

    /* Version 2, bound ahead: it must ask the firmware nothing. */
    int asked = 0;
    size_t v2_size = (size_t)(__bound_end - __bound_start);
    struct hr_module *v2 = load(__bound_start, v2_size, fw_resolve_none, &asked, &err);
    CHECK(v2 != NULL, "load calc v2: %s: %s", hr_status_name(err.status), err.msg);
    if (!v2 || use_module(v2, 1) != 0)
        sim_exit(1);
    report("calc v2", v2, v2_size);
    const uint8_t *fwid;
    size_t fwid_len = 0;
    CHECK(hr_image_section(__bound_start, v2_size, ".hotreload.fwid", &fwid, &fwid_len,
                           &err) == HR_OK && fwid_len == 20,
          "calc v2 carries a 20-byte firmware build-id (%zu)", fwid_len);
    CHECK(asked == 0 && hr_module_import_count(v2) == 0,
          "calc v2 asked for %d imports, has %zu", asked, hr_module_import_count(v2));
    check_fresh(2);
    check_calc(2);

    /* The old version goes; its code becomes ILL, the stubs never see it. */
    hr_module_free(v1);
    check_calc(2);

    check_refusals();

    unuse_module();
    hr_module_free(v2);
    struct fw_usage u = fw_usage();
    CHECK(u.blocks == 0 && u.regions == 0, "after unloading: %u blocks, %u regions",
          (unsigned)u.blocks, (unsigned)u.regions);
    check_unloaded();

    /* Back to version 1, in the memory the first two used. */
    v1 = load(img_calc_v1, v1_size, fw_resolve, NULL, &err);
    CHECK(v1 != NULL, "load calc v1 again: %s: %s", hr_status_name(err.status), err.msg);
    if (!v1 || use_module(v1, 0) != 0)
        sim_exit(1);
    CHECK(text_addr(v1) == v1_text, "calc v1 placed again at %#x (was %#x)",
          (unsigned)text_addr(v1), (unsigned)v1_text);
    check_fresh(1);
    check_calc(1);
    unuse_module();
    hr_module_free(v1);

    u = fw_usage();
    say("xtensa: pools' peaks: bookkeeping %u bytes, module code %u, module data %u\n",
        (unsigned)u.peak_heap, (unsigned)u.peak_text, (unsigned)u.peak_data);
    say("xtensa: %d checks passed, %d failed\n", checks_passed, checks_failed);
    return checks_failed ? 1 : 0;
}
