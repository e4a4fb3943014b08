/* The application's API: registration, loading, reloading at safe points,
 * confirmation, lookups. The reload transaction itself is in swap.c. */
#include <string.h>

#include "../core/fmt.h"
#include "rt.h"
#include "sha256.h"

static void copy_name(char *dst, const char *src)
{
    size_t n = strlen(src);
    if (n >= HR_NAME_MAX)
        n = HR_NAME_MAX - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

size_t hr_rt_size_limit(const hotreload_config_t *config)
{
    size_t max = config && config->max_module_size ? config->max_module_size
                                                   : HOTRELOAD_MAX_MODULE_SIZE;
    return max < UINT32_MAX ? max : UINT32_MAX;
}

/* The module's partition, asked to hold two images of its limit; one that
 * cannot (a fixed partition) is said once here, not only at each refusal. */
static void open_store(struct hr_rt_module *m)
{
    struct hr_storage dev;
    if (hr_rt.pf->storage_open(hr_rt.pf->ctx, m->partition, (uint32_t)m->max_size, &dev) != 0 ||
        hr_store_open(&m->store, &dev) != 0)
        return;
    m->has_store = true;
    uint32_t cap = hr_store_capacity(&m->store);
    if (cap < m->max_size)
        hr_rt_log("hotreload: module '%s': partition '%s' holds images of up to %u bytes, less "
                  "than its max_module_size of %zu: larger uploads are refused; make the "
                  "partition at least %llu bytes or lower max_module_size", m->name,
                  m->partition, (unsigned)cap, m->max_size,
                  (unsigned long long)hr_storage_size_for(m->max_size, dev.erase_size));
}

hotreload_err_t hr_rt_register(const hotreload_config_t *config, struct hr_rt_module **out)
{
    hotreload_config_t def = HOTRELOAD_CONFIG_DEFAULT();
    if (!config)
        config = &def;
    const char *name = config->module ? config->module : "main";
    if (strlen(name) >= HR_NAME_MAX ||
        (config->partition && strlen(config->partition) >= HR_NAME_MAX))
        return hr_rt_fail(HOTRELOAD_ERR_ARG, "module or partition name longer than %d bytes",
                          HR_NAME_MAX - 1);
    struct hr_rt_module *m = hr_rt_find(name);
    const char *partition = config->partition ? config->partition : "hotreload";
    for (int i = 0; i < HR_MAX_MODULES && !m; i++)
        if (hr_rt.mods[i].used && strcmp(hr_rt.mods[i].partition, partition) == 0)
            return hr_rt_fail(HOTRELOAD_ERR_ARG, "modules '%s' and '%s' cannot share the "
                              "partition '%s': give '%s' a partition of its own (ESP-IDF: add "
                              "'%s_%s' to partitions.csv; labels have at most 16 characters)",
                              hr_rt.mods[i].name, name, partition,
                              name, partition, name);
    if (!m) {
        for (int i = 0; i < HR_MAX_MODULES && !m; i++)
            if (!hr_rt.mods[i].used)
                m = &hr_rt.mods[i];
        if (!m)
            return hr_rt_fail(HOTRELOAD_ERR_NOMEM, "cannot register module '%s': the limit is %d "
                              "modules", name, HR_MAX_MODULES);
        memset(m, 0, sizeof *m);
        m->used = true;
        copy_name(m->name, name);
        copy_name(m->partition, partition);
        m->symtab = config->symtab;
        m->confirm_after_ms = config->confirm_after_ms;
        m->max_size = hr_rt_size_limit(config);
        if (m->symtab)
            *m->symtab->table_ptr = m->symtab->unloaded;
    }
    if (!m->has_store && hr_rt.pf->storage_open)
        open_store(m);
    *out = m;
    return HOTRELOAD_OK;
}

/* Load the stored image at start: the newest good one, falling back to the
 * other slot when it does not load (e.g. linked for an older firmware). */
static hotreload_err_t load_boot(struct hr_rt_module *m)
{
    if (!m->has_store)
        return hr_rt_fail(HOTRELOAD_ERR_STORAGE, "module '%s': storage '%s' cannot be opened",
                          m->name, m->partition);
    hotreload_err_t err = HOTRELOAD_ERR_NOT_FOUND;
    for (int attempt = 0; attempt < 2; attempt++) {
        const struct hr_image *newest = hr_store_newest(&m->store);
        uint32_t tried = newest && newest->state == HR_IMAGE_TRIED ? newest->seq : 0;
        const struct hr_image *img = hr_store_boot_image(&m->store);
        if (tried)
            hr_rt_log("hotreload: module '%s': image %u was never confirmed (the device "
                      "restarted before it had run confirm_after_ms, or before "
                      "hotreload_confirm()): %s", m->name, (unsigned)tried,
                      img ? "going back to the previous image" : "nothing else is stored");
        if (!img)
            break;
        if (img->state == HR_IMAGE_TRIAL)
            hr_store_mark(&m->store, img, HR_IMAGE_TRIED);
        const void *bytes;
        void *buf = NULL;
        if (hr_store_get(&m->store, img, hr_rt.pf->mem, &bytes, &buf) != 0) {
            err = hr_rt_fail(HOTRELOAD_ERR_STORAGE, "module '%s': stored image %u is corrupt",
                             m->name, img->seq);
        } else {
            err = hr_rt_swap(m, bytes, img->length, img->sha256, img->seq);
            hr_store_put(&m->store, img, bytes, buf, hr_rt.pf->mem);
            if (err == HOTRELOAD_OK) {
                m->confirmed = img->state == HR_IMAGE_CONFIRMED;
                return err;
            }
        }
        hr_store_mark(&m->store, img, HR_IMAGE_BAD);
    }
    if (err == HOTRELOAD_ERR_NOT_FOUND)
        hr_rt_fail(err, "module '%s': nothing stored in '%s' yet", m->name, m->partition);
    return err;
}

hotreload_err_t hotreload_load(const hotreload_config_t *config)
{
    struct hr_rt_module *m;
    hotreload_err_t err;
    if (hr_rt_each_built(config, hotreload_load, &err))
        return err;
    hr_rt_lock();
    err = hr_rt_register(config, &m);
    if (err == HOTRELOAD_OK)
        err = load_boot(m);
    hr_rt_unlock();
    return err;
}

hotreload_err_t hotreload_load_from_buffer(const hotreload_config_t *config, const void *elf,
                                           size_t size)
{
    struct hr_rt_module *m;
    if (!elf)
        return HOTRELOAD_ERR_ARG;
    hr_rt_lock();
    hotreload_err_t err = hr_rt_register(config, &m);
    if (err == HOTRELOAD_OK) {
        uint8_t sha[32];
        hr_sha256(elf, size, sha);
        err = hr_rt_swap(m, elf, size, sha, 0);
    }
    hr_rt_unlock();
    return err;
}

hotreload_err_t hr_rt_reload_stored(struct hr_rt_module *m)
{
    const struct hr_image *img = m->has_store ? hr_store_newest(&m->store) : NULL;
    if (!img)
        return hr_rt_fail(HOTRELOAD_ERR_NOT_FOUND, "module '%s': nothing stored to reload",
                          m->name);
    /* The running image's slot may have been reused by a later upload that
     * then failed: never go back to an older image behind the user's back. */
    if (m->mod && img->seq < m->image_seq)
        return hr_rt_fail(HOTRELOAD_ERR_NOT_FOUND, "module '%s': the running image %u is newer "
                          "than anything stored (image %u): nothing to reload", m->name,
                          m->image_seq, img->seq);
    /* Mark it tried first: if it takes the device down, the next start
     * falls back to the previous good image instead of crash-looping. */
    if (img->state == HR_IMAGE_TRIAL)
        hr_store_mark(&m->store, img, HR_IMAGE_TRIED);
    hotreload_err_t err;
    if (m->prepared.mod && m->prepared.image_seq == img->seq) {
        /* The upload prepared it: only the bring-up is left. */
        err = hr_rt_bring_up(m, &m->prepared);
    } else {
        hr_rt_drop_prepared(&m->prepared); /* stale: an older image */
        const void *bytes;
        void *buf = NULL;
        if (hr_store_get(&m->store, img, hr_rt.pf->mem, &bytes, &buf) != 0)
            return hr_rt_fail(HOTRELOAD_ERR_STORAGE, "module '%s': stored image %u is corrupt",
                              m->name, img->seq);
        err = hr_rt_swap(m, bytes, img->length, img->sha256, img->seq);
        hr_store_put(&m->store, img, bytes, buf, hr_rt.pf->mem);
    }
    if (err != HOTRELOAD_OK)
        hr_store_mark(&m->store, img, HR_IMAGE_BAD);
    else
        m->confirmed = img->state == HR_IMAGE_CONFIRMED;
    return err;
}

/* Answer a transport waiting for this module's request. */
static void answer(struct hr_rt_module *m, hotreload_err_t err)
{
    if (m->done_ticket == m->req_ticket)
        return;
    m->req_result = err;
    hr_fmt(m->req_msg, sizeof m->req_msg, "%s", err ? hr_rt.last_error : "");
    if (!err)
        hr_rt.error_current = false; /* what someone asked for worked: errors are history */
    m->done_ticket = m->req_ticket;
    m->want_reload = m->want_unload = false;
}

/* A reload was asked for, or a stored image is newer than the running one. */
static bool has_update(struct hr_rt_module *m)
{
    const struct hr_image *img = m->has_store ? hr_store_newest(&m->store) : NULL;
    return m->want_reload || (img && img->seq > m->image_seq && img->state != HR_IMAGE_BAD);
}

/* hotreload_reload of every module: those with nothing new are left alone,
 * quietly (NOT_FOUND counts only when no module had anything new). */
static hotreload_err_t reload_if_new(const hotreload_config_t *config)
{
    hr_rt_lock();
    struct hr_rt_module *m = hr_rt_find(config->module);
    bool skip = m && !has_update(m);
    hr_rt_unlock();
    return skip ? HOTRELOAD_ERR_NOT_FOUND : hotreload_reload(config);
}

hotreload_err_t hotreload_reload(const hotreload_config_t *config)
{
    hotreload_err_t all;
    if (hr_rt_each_built(config, reload_if_new, &all))
        return all;
    hr_rt_lock();
    struct hr_rt_module *m = hr_rt_find(config ? config->module : NULL);
    hotreload_err_t err = m ? hr_rt_reload_stored(m)
                            : hr_rt_fail(HOTRELOAD_ERR_NOT_FOUND, "no module '%s' is registered",
                                         config && config->module ? config->module : "main");
    if (m)
        answer(m, err);
    hr_rt_unlock();
    return err;
}

hotreload_err_t hotreload_unload(const hotreload_config_t *config)
{
    hotreload_err_t all;
    if (hr_rt_each_built(config, hotreload_unload, &all))
        return all;
    hr_rt_lock();
    struct hr_rt_module *m = hr_rt_find(config ? config->module : NULL);
    hotreload_err_t err = HOTRELOAD_OK;
    if (!m || !m->mod)
        err = hr_rt_fail(HOTRELOAD_ERR_STATE, "module '%s' is not loaded",
                         config && config->module ? config->module : "main");
    else
        hr_rt_retire(m);
    if (m)
        answer(m, err);
    hr_rt_unlock();
    return err;
}

/* The application's own upload: the same session a transport's takes, with
 * no credential (the call comes from the firmware itself). */
hotreload_err_t hotreload_update_partition(const hotreload_config_t *config, const void *elf,
                                           size_t size)
{
    struct hr_rt_module *m;
    if (!elf)
        return HOTRELOAD_ERR_ARG;
    hr_rt_lock();
    hotreload_err_t err = hr_rt_register(config, &m);
    hr_rt_unlock();
    if (err)
        return err;
    struct hr_upload_policy policy = {.auth_disabled = true}; /* the module's own limits */
    struct hr_upload_request req = {.module = m->name, .length = size};
    struct hr_upload_answer ans;
    struct hr_upload *up;
    if (hr_upload_begin(&policy, &req, &up, &ans) == HOTRELOAD_OK &&
        hr_upload_write(up, elf, size, &ans) == HOTRELOAD_OK)
        hr_upload_finish(up, &ans);
    return ans.err ? hr_rt_fail(ans.err, "module '%s': %s", m->name, ans.msg) : HOTRELOAD_OK;
}

static hotreload_err_t add_hook(struct hr_hook *hooks, hotreload_hook_fn_t fn, void *ctx)
{
    if (!fn)
        return HOTRELOAD_ERR_ARG;
    for (int i = 0; i < HR_MAX_HOOKS; i++)
        if (!hooks[i].fn) {
            hooks[i].fn = fn;
            hooks[i].ctx = ctx;
            return HOTRELOAD_OK;
        }
    return hr_rt_fail(HOTRELOAD_ERR_NOMEM, "no room for another hook (%d)", HR_MAX_HOOKS);
}

hotreload_err_t hotreload_register_pre_hook(hotreload_hook_fn_t hook, void *user_ctx)
{
    return add_hook(hr_rt.pre, hook, user_ctx);
}

hotreload_err_t hotreload_register_post_hook(hotreload_hook_fn_t hook, void *user_ctx)
{
    return add_hook(hr_rt.post, hook, user_ctx);
}

/* A module that has run confirm_after_ms is good: it is what the device
 * starts with from now on. */
static void auto_confirm(struct hr_rt_module *m)
{
    if (!m->mod || m->confirmed || !m->confirm_after_ms || !m->image_seq)
        return;
    if (hr_rt.pf->now_ms(hr_rt.pf->ctx) - m->loaded_at_ms < m->confirm_after_ms)
        return;
    const struct hr_image *img = hr_store_newest(&m->store);
    if (img && img->seq == m->image_seq)
        hr_store_mark(&m->store, img, HR_IMAGE_CONFIRMED);
    m->confirmed = true;
}

bool hotreload_update_available(void)
{
    bool any = false;
    hr_rt_lock();
    for (int i = 0; i < HR_MAX_MODULES; i++) {
        struct hr_rt_module *m = &hr_rt.mods[i];
        if (!m->used)
            continue;
        auto_confirm(m);
        if (m->want_unload || has_update(m))
            any = true;
    }
    hr_rt_unlock();
    return any;
}

int hotreload_poll(void)
{
    int changed = 0;
    hr_rt_lock();
    for (int i = 0; i < HR_MAX_MODULES; i++) {
        struct hr_rt_module *m = &hr_rt.mods[i];
        if (!m->used)
            continue;
        auto_confirm(m);
        if (m->want_unload) {
            hotreload_err_t err = HOTRELOAD_OK;
            if (m->mod)
                hr_rt_retire(m);
            else
                err = hr_rt_fail(HOTRELOAD_ERR_STATE, "module '%s' is not loaded", m->name);
            answer(m, err);
            changed += err == HOTRELOAD_OK;
        } else if (m->want_reload) {
            hotreload_err_t err = hr_rt_reload_stored(m);
            answer(m, err);
            changed += err == HOTRELOAD_OK;
        }
    }
    hr_rt_unlock();
    return changed;
}

hotreload_err_t hotreload_confirm(void)
{
    hr_rt_lock();
    for (int i = 0; i < HR_MAX_MODULES; i++) {
        struct hr_rt_module *m = &hr_rt.mods[i];
        if (!m->used || !m->mod || m->confirmed)
            continue;
        const struct hr_image *img = m->has_store ? hr_store_newest(&m->store) : NULL;
        if (img && img->seq == m->image_seq)
            hr_store_mark(&m->store, img, HR_IMAGE_CONFIRMED);
        m->confirmed = true;
    }
    hr_rt_unlock();
    return HOTRELOAD_OK;
}

void *hotreload_lookup(const char *module, const char *name)
{
    void *p = NULL;
    hr_rt_lock();
    struct hr_rt_module *m = hr_rt_find(module);
    const struct hr_export_info *e = m && m->mod ? hr_module_lookup(m->mod, name) : NULL;
    if (e)
        p = (void *)(uintptr_t)e->addr;
    hr_rt_unlock();
    return p;
}

void hotreload_unloaded_call(const struct hotreload_symtab *symtab, uint32_t slot)
{
    const char *fn = symtab && slot < symtab->count ? symtab->names[slot] : "?";
    hr_rt_start();
    hr_rt.unloaded_calls++;
    hr_fmt(hr_rt.unloaded_last, sizeof hr_rt.unloaded_last, "%s", fn);
    /* An application calling in a loop before its first push would fill the
     * log: said once after the start and once after each unload; /status
     * counts every call. */
    if (!hr_rt.unloaded_said) {
        hr_rt.unloaded_said = true;
        hr_rt_log("hotreload: called unloaded function '%s' (no module provides it now; "
                  "further calls are counted in /status, unloaded_calls)", fn);
    }
}
