/* loader_hostile: the harness every case goes through. A counting port that
 * hands out exactly-sized buffers (ASan sees any over-read or overrun) and
 * can fail its n-th allocation, a made-up firmware resolver, and run_case,
 * which checks the outcome's contract: status and message agree, nothing is
 * leaked, and the expectation holds. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostile.h"

/* ---- counting test port ------------------------------------------------ */

#define REGION_CAP (16u << 20) /* a device has no more: refuse larger regions */

struct tport {
    long allocs, frees, regions, region_frees;
    long alloc_calls, region_calls;
    long fail_alloc_at;  /* fail the n-th alloc call (0-based), -1: never */
    long fail_region_at; /* fail the n-th region_alloc call, -1: never */
    hr_addr_t text_next, data_next;
};

static void *tp_alloc(void *vctx, size_t size)
{
    struct tport *t = vctx;
    if (t->alloc_calls++ == t->fail_alloc_at)
        return NULL;
    void *p = malloc(size);
    if (p)
        t->allocs++;
    return p;
}

static void tp_free(void *vctx, void *p)
{
    struct tport *t = vctx;
    if (p)
        t->frees++;
    free(p);
}

static int tp_region_alloc(void *vctx, enum hr_region_kind kind, size_t size, size_t align,
                           struct hr_mem *out)
{
    struct tport *t = vctx;
    if (t->region_calls++ == t->fail_region_at || size > REGION_CAP || align == 0 ||
        (align & (align - 1)) || (unsigned)kind >= HR_REGION_COUNT)
        return -1;
    /* Exactly `size` bytes, so ASan catches a write past the region. The
     * target addresses are made up: this test never executes the code. */
    out->write = malloc(size ? size : 1);
    if (!out->write)
        return -1;
    hr_addr_t *cur = kind == HR_REGION_TEXT ? &t->text_next : &t->data_next;
    out->addr = (*cur + align - 1) & ~(hr_addr_t)(align - 1);
    *cur = out->addr + size;
    out->size = size;
    t->regions++;
    return 0;
}

static void tp_region_free(void *vctx, enum hr_region_kind kind, const struct hr_mem *mem)
{
    struct tport *t = vctx;
    (void)kind;
    t->region_frees++;
    free(mem->write);
}

static struct hr_port make_port(struct tport *t)
{
    memset(t, 0, sizeof *t);
    t->fail_alloc_at = -1;
    t->fail_region_at = -1;
    t->text_next = 0x40000000u;
    t->data_next = 0x50000000u;
    return (struct hr_port){t, tp_alloc, tp_free, tp_region_alloc, tp_region_free, NULL, 0};
}

/* ---- resolver: a small made-up firmware -------------------------------- */

struct resolver {
    const char *deny; /* pretend the firmware lacks this one */
    bool thumb;       /* a Cortex-M firmware: its addresses have bit 0 set (Thumb) */
};

static int resolve(void *vctx, const char *name, hr_addr_t *addr)
{
    const struct resolver *r = vctx;
    static const char *const libc[] = {"memcpy", "memset", "memmove", "memcmp", "strlen"};
    bool known = strncmp(name, "fw_", 3) == 0 || strncmp(name, "__", 2) == 0;
    for (size_t i = 0; i < sizeof libc / sizeof libc[0]; i++)
        known = known || strcmp(name, libc[i]) == 0;
    if (!known || (r && r->deny && strcmp(name, r->deny) == 0))
        return -1;
    uint32_t h = 2166136261u;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    *addr = 0x08000000u + (h & 0xffffu) * 16u + (r && r->thumb);
    return 0;
}

/* ---- running one case ---------------------------------------------------- */

int g_cases, g_passed, g_failed;
bool g_verbose;

void failf(const char *label, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s: ", label);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Touch everything a loaded module exposes, so ASan sees a bad pointer. */
static void walk(const struct hr_module *mod)
{
    volatile size_t sink = 0;
    for (size_t i = 0; i < hr_module_section_count(mod); i++) {
        const struct hr_section_info *s = hr_module_section(mod, i);
        sink += strlen(s->name) + (size_t)s->addr;
        if (s->bytes && s->size)
            sink += s->bytes[0] + s->bytes[s->size - 1];
    }
    for (size_t i = 0; i < hr_module_import_count(mod); i++)
        sink += strlen(hr_module_import(mod, i)->name);
    for (size_t i = 0; i < hr_module_export_count(mod); i++) {
        const struct hr_export_info *x = hr_module_export(mod, i);
        sink += strlen(x->name);
        if (hr_module_lookup(mod, x->name) == NULL)
            sink += 1;
    }
    const struct hr_reloc_count *rc;
    size_t n = hr_module_reloc_stats(mod, &rc);
    for (size_t i = 0; i < n; i++)
        sink += rc[i].count;
    (void)sink;
}

/* Load `img` (copied into an exactly-sized buffer) and check the outcome.
 * Returns the status; counts the case. */
enum hr_status run_case(const char *label, const struct loadopt *o, const uint8_t *img,
                        size_t n, struct expect ex, char *msg_out, size_t msg_size)
{
    struct tport t;
    struct hr_port port = make_port(&t);
    t.fail_alloc_at = o->fail_alloc_at;
    t.fail_region_at = o->fail_region_at;
    struct resolver r = {o->deny, o->arch == HR_ARCH_ARM};
    struct hr_load_config cfg = {.arch = o->arch, .port = &port,
                                 .resolve = resolve, .resolve_ctx = &r};
    uint8_t *copy = malloc(n ? n : 1);
    if (n)
        memcpy(copy, img, n);
    struct hr_module *mod = (struct hr_module *)1;
    struct hr_error err;
    memset(&err, 0x5a, sizeof err);
    enum hr_status st = hr_module_load(&cfg, n ? copy : copy + 1, n, &mod, &err);
    bool ok = true;
    g_cases++;
    if (st != err.status) {
        failf(label, "returned %d but err.status is %d", st, err.status);
        ok = false;
    }
    if (memchr(err.msg, '\0', sizeof err.msg) == NULL) {
        failf(label, "error message is not NUL-terminated");
        ok = false;
        err.msg[sizeof err.msg - 1] = '\0';
    }
    if (st == HR_OK) {
        if (!mod) {
            failf(label, "HR_OK but no module");
            ok = false;
        } else {
            walk(mod);
            hr_module_free(mod);
        }
    } else {
        if (mod != NULL) {
            failf(label, "failed (%s) but *out is not NULL", hr_status_name(st));
            ok = false;
        }
        if (err.msg[0] == '\0') {
            failf(label, "failed with %s and an empty message", hr_status_name(st));
            ok = false;
        }
    }
    free(copy);
    if (t.allocs != t.frees || t.regions != t.region_frees) {
        failf(label, "leak: %ld/%ld allocs freed, %ld/%ld regions freed (status %s)", t.frees,
              t.allocs, t.region_frees, t.regions, hr_status_name(st));
        ok = false;
    }
    switch (ex.want) {
    case W_OK:
        if (st != HR_OK) {
            failf(label, "expected success, got %s: %s", hr_status_name(st), err.msg);
            ok = false;
        }
        break;
    case W_FAIL:
        if (st == HR_OK) {
            failf(label, "expected an error, the load succeeded");
            ok = false;
        }
        break;
    case W_ANY:
        break;
    case W_STATUS:
        if (st != ex.st && st != ex.st2) {
            failf(label, "expected %s, got %s: %s", hr_status_name(ex.st), hr_status_name(st),
                  err.msg);
            ok = false;
        } else if (ex.word && !strstr(err.msg, ex.word)) {
            failf(label, "message lacks \"%s\": %s", ex.word, err.msg);
            ok = false;
        }
        break;
    }
    if (g_verbose && ex.want == W_STATUS)
        printf("  %-44s %s: %s\n", label, hr_status_name(st), err.msg);
    if (o->alloc_calls)
        *o->alloc_calls = t.alloc_calls;
    if (o->region_calls)
        *o->region_calls = t.region_calls;
    if (msg_out)
        snprintf(msg_out, msg_size, "%s", err.msg);
    if (ok)
        g_passed++;
    else
        g_failed++;
    return st;
}

void check_bad_calls(void)
{
    struct tport t;
    struct hr_port port = make_port(&t);
    struct hr_load_config cfg = {.arch = HR_ARCH_X86_64, .port = &port,
                                 .resolve = resolve, .resolve_ctx = NULL};
    struct hr_module *mod;
    struct hr_error err;
    g_cases += 3;
    int bad = 0;
    bad += hr_module_load(NULL, "x", 1, &mod, &err) != HR_E_ARG || !err.msg[0];
    bad += hr_module_load(&cfg, "x", 1, NULL, &err) != HR_E_ARG;
    cfg.arch = (enum hr_arch)99;
    bad += hr_module_load(&cfg, "x", 1, &mod, &err) != HR_E_ARG || !err.msg[0];
    if (bad)
        failf("bad calls", "%d of 3 not refused with HR_E_ARG", bad);
    g_passed += 3 - bad;
    g_failed += bad;
}

/* ---- the module under test ---------------------------------------------- */

/* A mutable copy of the subject, for one targeted corruption. */
struct elfv fresh(const struct subject *s, uint8_t *buf)
{
    memcpy(buf, s->img, s->n);
    return (struct elfv){buf, s->n, s->is64};
}

void label_of(char *out, size_t size, const struct subject *s, const char *what)
{
    const char *base = strrchr(s->path, '/');
    snprintf(out, size, "%s:%s %s", hr_arch_name(s->arch), base ? base + 1 : s->path, what);
}

/* Run a targeted case; when the expectation concerns relocation or later
 * stages and the arch is not ready, only "fails or loads cleanly" holds. */
void targeted(const struct subject *s, const char *what, const struct elfv *e,
              struct expect ex, bool late)
{
    char label[160];
    label_of(label, sizeof label, s, what);
    if (late && !s->ready)
        ex = e_any();
    struct loadopt o = opt(s->arch);
    run_case(label, &o, e->b, e->n, ex, NULL, 0);
}
