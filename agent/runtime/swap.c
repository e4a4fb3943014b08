/* The reload transaction, in two steps. Prepare (any thread, no lock):
 * parse the image once, check it was linked for this firmware, place,
 * relocate and sync it -- no module code runs. Bring up (the application's
 * safe point): check it provides every function the firmware's stubs call,
 * carry persistent variables over, run its constructors; only then
 * pre-hooks, one pointer store that switches the stubs, post-hooks, and the
 * old module's retirement. Anything that fails before the switch frees the
 * new module: the old one never stopped. */
#include <string.h>

#include "../core/fmt.h"
#include "rt.h"
#include "sha256.h"

/* The loader's accept check: the module was linked for this firmware. It
 * also keeps the module's own build-id for the debugger. */
static enum hr_status accept_module(void *ctx, const struct hr_module_ident *id,
                                    struct hr_error *e)
{
    struct hr_prepared *p = ctx;
    const uint8_t *mine = NULL;
    if (!id->fwid_len)
        return hr_fail(e, HR_E_REFUSED, "the module does not say which firmware it was linked "
                       "for (no %s section): build it with the hotreload build integration",
                       HR_FWID_SECTION);
    size_t mylen = hr_rt.pf->firmware_id ? hr_rt.pf->firmware_id(hr_rt.pf->ctx, &mine) : 0;
    if (mylen == 0 || id->fwid_len != mylen || !hr_memeq_ct(id->fwid, mine, mylen)) {
        char have[2 * HR_FWID_MAX + 1] = "", want[2 * HR_FWID_MAX + 1] = "unknown";
        hr_hex(id->fwid, id->fwid_len < HR_FWID_MAX ? id->fwid_len : HR_FWID_MAX, have);
        if (mylen)
            hr_hex(mine, mylen < HR_FWID_MAX ? mylen : HR_FWID_MAX, want);
        return hr_fail(e, HR_E_REFUSED, "module built for firmware %s, this device runs %s: "
                       "rebuild the module for this firmware (or flash the firmware it was "
                       "built for)", have, want);
    }
    p->build_id_len = id->build_id_len <= HR_FWID_MAX ? (uint32_t)id->build_id_len : 0;
    if (p->build_id_len)
        memcpy(p->build_id, id->build_id, p->build_id_len);
    return HR_OK;
}

hotreload_err_t hr_rt_prepare(const void *image, size_t size, const uint8_t sha[32],
                              uint32_t image_seq, struct hr_prepared *out, char *msg,
                              size_t msgsize)
{
    memset(out, 0, sizeof *out);
    struct hr_load_config cfg = {hr_rt_native_arch(), hr_rt.pf->mem, hr_rt_resolve, NULL,
                                 accept_module, out};
    struct hr_error e;
    if (hr_module_load(&cfg, image, size, &out->mod, &e) != HR_OK) {
        out->mod = NULL;
        if (e.status == HR_E_REFUSED) {
            hr_fmt(msg, msgsize, "%s", e.msg);
            return HOTRELOAD_ERR_FIRMWARE;
        }
        hr_fmt(msg, msgsize, "the module would not load: %s", e.msg);
        return e.status == HR_E_NOMEM ? HOTRELOAD_ERR_NOMEM : HOTRELOAD_ERR_INVALID;
    }
    out->image_seq = image_seq;
    memcpy(out->image_sha, sha, 32);
    return HOTRELOAD_OK;
}

void hr_rt_drop_prepared(struct hr_prepared *p)
{
    hr_module_free(p->mod);
    p->mod = NULL;
}

int hr_rt_resolve(void *ctx, const char *name, hr_addr_t *addr)
{
    (void)ctx;
    return hr_rt.pf->resolve ? hr_rt.pf->resolve(hr_rt.pf->ctx, name, addr) : -1;
}

enum hr_arch hr_rt_native_arch(void)
{
#if defined(__x86_64__)
    return HR_ARCH_X86_64;
#elif defined(__riscv) && __riscv_xlen == 64
    return HR_ARCH_RV64;
#elif defined(__riscv)
    return HR_ARCH_RV32;
#elif defined(__XTENSA__)
    return HR_ARCH_XTENSA;
#elif defined(__arm__)
    return HR_ARCH_ARM;
#else
#error "hotreload: no loader for this architecture"
#endif
}

static void append(char *list, const char *name)
{
    size_t n = strlen(list);
    hr_fmt(list + n, HR_PERSIST_REPORT - n, "%s%s", n ? "," : "", name);
}

/* Variables marked HOTRELOAD_PERSIST keep their values when the new module
 * has a variable of the same name and size; the rest start fresh. */
static void carry_persistent(struct hr_rt_module *m, struct hr_module *next)
{
    m->carried[0] = m->dropped[0] = '\0';
    if (!m->mod)
        return;
    for (size_t i = 0; i < hr_module_persist_count(m->mod); i++) {
        const struct hr_export_info *old = hr_module_persist(m->mod, i);
        const struct hr_export_info *new_ = NULL;
        for (size_t k = 0; k < hr_module_persist_count(next) && !new_; k++)
            if (strcmp(hr_module_persist(next, k)->name, old->name) == 0)
                new_ = hr_module_persist(next, k);
        uint8_t *src = hr_module_bytes(m->mod, old->addr, (size_t)old->size);
        uint8_t *dst = new_ ? hr_module_bytes(next, new_->addr, (size_t)new_->size) : NULL;
        if (new_ && new_->size == old->size && src && dst) {
            memcpy(dst, src, (size_t)old->size);
            append(m->carried, old->name);
        } else {
            append(m->dropped, old->name);
        }
    }
}

/* Constructor and destructor arrays: pointer-sized code addresses. */
struct call_list {
    const struct hr_section_info *sec;
    size_t i;
};

static void call_entry(void *arg)
{
    struct call_list *cl = arg;
    uintptr_t fn;
    memcpy(&fn, cl->sec->bytes + cl->i * sizeof fn, sizeof fn);
    ((void (*)(void))fn)();
}

static bool is_array(const char *name, const char *kind)
{
    size_t n = strlen(kind);
    return strncmp(name, kind, n) == 0 && (name[n] == '\0' || name[n] == '.');
}

/* Run .preinit_array then .init_array(.N) entries (or, with `fini`,
 * .fini_array backwards). Returns non-zero if one trapped. */
static int run_array(struct hr_module *mod, bool fini, char *why, size_t whysize)
{
    const char *kinds[2] = {fini ? ".fini_array" : ".preinit_array", fini ? NULL : ".init_array"};
    for (int k = 0; k < 2 && kinds[k]; k++)
        for (size_t s = 0; s < hr_module_section_count(mod); s++) {
            struct call_list cl = {hr_module_section(mod, s), 0};
            if (!is_array(cl.sec->name, kinds[k]) || !cl.sec->bytes)
                continue;
            size_t n = (size_t)cl.sec->size / sizeof(uintptr_t);
            for (size_t j = 0; j < n; j++) {
                cl.i = fini ? n - 1 - j : j;
                char trap[96] = "";
                if (hr_rt.pf->guarded_call(hr_rt.pf->ctx, call_entry, &cl, trap, sizeof trap)) {
                    hr_fmt(why, whysize, "%s entry %zu trapped: %s", cl.sec->name, cl.i, trap);
                    return -1;
                }
            }
        }
    return 0;
}

/* The new table of stub targets, filled in the table not in use. */
static hotreload_err_t fill_table(struct hr_rt_module *m, struct hr_module *next)
{
    const struct hotreload_symtab *t = m->symtab;
    if (!t)
        return HOTRELOAD_OK;
    hotreload_fn_t *tab = t->tables[m->table ^ 1];
    for (uint32_t i = 0; i < t->count; i++) {
        const struct hr_export_info *e = hr_module_lookup(next, t->names[i]);
        if (!e || e->kind != HR_EXPORT_FUNC)
            return hr_rt_fail(HOTRELOAD_ERR_INVALID, "the module does not export function '%s', "
                              "which the firmware calls: rebuild and reflash the firmware if "
                              "the module's interface changed", t->names[i]);
        tab[i] = (hotreload_fn_t)(uintptr_t)e->addr;
    }
    return HOTRELOAD_OK;
}

static void call_hook(void *arg)
{
    const struct hr_hook *h = arg;
    h->fn(h->ctx);
}

/* Hooks are the application's, but they call into modules (a post-hook
 * typically into the new one): run them under the trap guard, as
 * constructors are. Returns non-zero if one trapped. */
static int run_hooks(bool pre, char *why, size_t whysize)
{
    const struct hr_hook *hooks = pre ? hr_rt.pre : hr_rt.post;
    for (int i = 0; i < HR_MAX_HOOKS; i++) {
        char trap[96] = "";
        if (hooks[i].fn && hr_rt.pf->guarded_call(hr_rt.pf->ctx, call_hook, (void *)&hooks[i],
                                                  trap, sizeof trap)) {
            hr_fmt(why, whysize, "%s-reload hook %d trapped: %s", pre ? "pre" : "post", i, trap);
            return -1;
        }
    }
    return 0;
}

/* The running copy as the module's record describes it: kept across the
 * switch so that a post-hook that traps can switch back. */
struct running {
    struct hr_module *mod;
    int table;
    uint32_t generation, image_seq, build_id_len;
    uint8_t image_sha[32], build_id[HR_FWID_MAX];
    uint64_t loaded_at_ms;
    bool confirmed;
};

static void save_running(const struct hr_rt_module *m, struct running *r)
{
    r->mod = m->mod;
    r->table = m->table;
    r->generation = m->generation;
    r->image_seq = m->image_seq;
    r->build_id_len = m->build_id_len;
    memcpy(r->image_sha, m->image_sha, sizeof r->image_sha);
    memcpy(r->build_id, m->build_id, sizeof r->build_id);
    r->loaded_at_ms = m->loaded_at_ms;
    r->confirmed = m->confirmed;
}

static void restore_running(struct hr_rt_module *m, const struct running *r)
{
    m->mod = r->mod;
    m->table = r->table;
    m->generation = r->generation;
    m->image_seq = r->image_seq;
    m->build_id_len = r->build_id_len;
    memcpy(m->image_sha, r->image_sha, sizeof m->image_sha);
    memcpy(m->build_id, r->build_id, sizeof m->build_id);
    m->loaded_at_ms = r->loaded_at_ms;
    m->confirmed = r->confirmed;
}

/* The old module's memory: freed now, or -- while a transport waits for
 * this reload -- left for it to free, off the application's safe point.
 * Its destructors have run and the debugger has let go of it already. */
static void bury(struct hr_rt_module *m, struct hr_module *old)
{
    if (m->waiters && !m->retired)
        m->retired = old;
    else
        hr_module_free(old);
}

struct hr_module *hr_rt_take_retired(struct hr_rt_module *m)
{
    struct hr_module *r = m->retired;
    m->retired = NULL;
    return r;
}

void hr_rt_retire(struct hr_rt_module *m)
{
    if (!m->mod)
        return;
    if (m->symtab)
        *m->symtab->table_ptr = m->symtab->unloaded;
    hr_rt.unloaded_said = false; /* the next unloaded call is news again */
    char why[HR_MSG_MAX];
    if (run_array(m->mod, true, why, sizeof why))
        hr_rt_log("hotreload: module '%s': destructor failed: %s", m->name, why);
    hr_debug_removing(m->mod);
    bury(m, m->mod);
    m->mod = NULL;
}

hotreload_err_t hr_rt_bring_up(struct hr_rt_module *m, struct hr_prepared *p)
{
    char msg[HR_MSG_MAX];
    struct hr_module *next = p->mod;
    p->mod = NULL;
    hotreload_err_t err;
    if ((err = fill_table(m, next)) != HOTRELOAD_OK) {
        hr_module_free(next);
        return err;
    }
    /* Placed and relocated, not run yet: a debugger can set its breakpoints
     * in the new code before the constructors execute. */
    hr_debug_added(m->name, next, m->generation + 1, p->build_id, p->build_id_len);
    char carried[HR_PERSIST_REPORT], dropped[HR_PERSIST_REPORT];
    memcpy(carried, m->carried, sizeof carried);
    memcpy(dropped, m->dropped, sizeof dropped);
    carry_persistent(m, next);
    if (run_array(next, false, msg, sizeof msg)) {
        hr_debug_removing(next);
        hr_module_free(next);
        memcpy(m->carried, carried, sizeof carried);
        memcpy(m->dropped, dropped, sizeof dropped);
        return hr_rt_fail(HOTRELOAD_ERR_INIT, "module '%s': constructor failed, the previous "
                          "module keeps running: %s", m->name, msg);
    }
    if (run_hooks(true, msg, sizeof msg)) {
        hr_debug_removing(next);
        hr_module_free(next);
        memcpy(m->carried, carried, sizeof carried);
        memcpy(m->dropped, dropped, sizeof dropped);
        return hr_rt_fail(HOTRELOAD_ERR_INIT, "module '%s': %s; the previous module keeps "
                          "running", m->name, msg);
    }
    struct running was;
    save_running(m, &was);
    struct hr_module *old = m->mod;
    if (m->symtab) {
        m->table ^= 1;
        *m->symtab->table_ptr = m->symtab->tables[m->table];
    }
    m->mod = next;
    m->generation++;
    m->image_seq = p->image_seq;
    memcpy(m->image_sha, p->image_sha, sizeof m->image_sha);
    m->build_id_len = p->build_id_len;
    memcpy(m->build_id, p->build_id, sizeof m->build_id);
    m->loaded_at_ms = hr_rt.pf->now_ms(hr_rt.pf->ctx);
    m->confirmed = p->image_seq == 0;
    if (run_hooks(false, msg, sizeof msg)) {
        /* The old module is intact (not retired yet) and its table unchanged. */
        restore_running(m, &was);
        if (m->symtab)
            *m->symtab->table_ptr = old ? m->symtab->tables[m->table] : m->symtab->unloaded;
        memcpy(m->carried, carried, sizeof carried);
        memcpy(m->dropped, dropped, sizeof dropped);
        char why[160];
        if (run_array(next, true, why, sizeof why))
            hr_rt_log("hotreload: module '%s': destructor failed: %s", m->name, why);
        hr_debug_removing(next);
        hr_module_free(next);
        return hr_rt_fail(HOTRELOAD_ERR_INIT, "module '%s': %s; switched back to the previous "
                          "module", m->name, msg);
    }
    if (old) {
        if (run_array(old, true, msg, sizeof msg))
            hr_rt_log("hotreload: module '%s': old destructor failed: %s", m->name, msg);
        hr_debug_removing(old); /* before the memory can be reused */
        bury(m, old);
    }
    char image[24] = "";
    if (m->image_seq)
        hr_fmt(image, sizeof image, " (image %u)", (unsigned)m->image_seq);
    hr_rt_log("hotreload: module '%s' generation %u running%s%s%s%s", m->name, m->generation,
              image, m->carried[0] ? " (variables carried over: " : "", m->carried,
              m->carried[0] ? ")" : "");
    return HOTRELOAD_OK;
}

hotreload_err_t hr_rt_swap(struct hr_rt_module *m, const void *image, size_t size,
                           const uint8_t sha[32], uint32_t image_seq)
{
    char msg[HR_MSG_MAX];
    struct hr_prepared p;
    hotreload_err_t err = hr_rt_prepare(image, size, sha, image_seq, &p, msg, sizeof msg);
    if (err)
        return hr_rt_fail(err, "module '%s': %s", m->name, msg);
    return hr_rt_bring_up(m, &p);
}
