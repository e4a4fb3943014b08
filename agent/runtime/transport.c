/* What the transports (HTTP, serial console) ask of the runtime, below the
 * upload session (upload.c): bodies staged into storage and prepared once,
 * reload requests answered at the application's safe point, symbols, and
 * the replay-protection state. */
#include <string.h>

#include "../core/fmt.h"
#include "rt.h"

struct hr_stage {
    struct hr_rt_module *m;
    struct hr_store_writer w;
    bool digested;
};

/* One upload at a time; its bookkeeping is static (no heap on the device). */
static struct hr_stage the_stage;

const char *hr_rt_stage_module(const struct hr_stage *st)
{
    return st->m->name;
}

static hotreload_err_t say(hotreload_err_t err, char *msg, size_t msgsize, const char *text)
{
    if (msg)
        hr_fmt(msg, msgsize, "%s", text);
    return err;
}

static void stage_done(struct hr_stage *up)
{
    hr_rt_lock();
    up->m = NULL;
    hr_rt.uploading = false;
    hr_rt_unlock();
}

/* Whether a module of `length` bytes is over one of its limits -- the
 * module's max_module_size (the one setting), the partition's image size
 * when that is smaller, a transport's cap (`server_max`, 0: none) -- and if
 * so which, and how to raise it. */
static bool too_large(const struct hr_rt_module *m, uint64_t length, size_t server_max,
                      char *msg, size_t msgsize)
{
    size_t slot = hr_store_capacity(&m->store);
    if (length > m->max_size)
        hr_fmt(msg, msgsize, "module of %llu bytes is over module '%s''s limit of %zu bytes: "
               "raise max_module_size in its hotreload_config_t (default "
               "HOTRELOAD_MAX_MODULE_SIZE)", (unsigned long long)length, m->name, m->max_size);
    else if (length > slot)
        hr_fmt(msg, msgsize, "module of %llu bytes does not fit partition '%s' (%zu bytes per "
               "image, two images): make the partition larger", (unsigned long long)length,
               m->partition, slot);
    else if (server_max && length > server_max)
        hr_fmt(msg, msgsize, "module of %llu bytes is over the server's cap of %zu bytes: raise "
               "max_module_size of hotreload_server_config_t, or set it to 0 to follow the "
               "module's own", (unsigned long long)length, server_max);
    else
        return false;
    return true;
}

hotreload_err_t hr_rt_stage_fits(const char *module, uint64_t length, size_t max_size, char *msg,
                                 size_t msgsize)
{
    hr_rt_lock();
    const struct hr_rt_module *m = hr_rt_find(module);
    bool over = m && m->has_store && too_large(m, length, max_size, msg, msgsize);
    hr_rt_unlock();
    return over ? HOTRELOAD_ERR_TOO_LARGE : HOTRELOAD_OK;
}

hotreload_err_t hr_rt_stage_begin(const char *module, uint32_t length, size_t max_size,
                                  struct hr_stage **out, char *msg, size_t msgsize)
{
    hotreload_err_t err = HOTRELOAD_OK;
    hr_rt_lock();
    struct hr_rt_module *m = hr_rt_find(module);
    if (!m) {
        hr_rt_not_found(module, msg, msgsize);
        err = HOTRELOAD_ERR_NOT_FOUND;
    } else if (hr_rt.uploading) {
        err = say(HOTRELOAD_ERR_BUSY, msg, msgsize, "another upload is in progress");
    } else if (!m->has_store) {
        hr_fmt(msg, msgsize, "storage '%s' cannot be opened", m->partition);
        err = HOTRELOAD_ERR_STORAGE;
    } else if (too_large(m, length, max_size, msg, msgsize)) {
        err = HOTRELOAD_ERR_TOO_LARGE;
    } else if (length == 0) {
        err = say(HOTRELOAD_ERR_ARG, msg, msgsize, "empty upload");
    } else if (hr_store_reserve(&m->store, length, &the_stage.w) != 0) {
        err = say(HOTRELOAD_ERR_STORAGE, msg, msgsize, "no storage slot for the module");
    } else {
        hr_rt.uploading = true;
        the_stage.m = m;
        the_stage.digested = false;
    }
    hr_rt_unlock();
    /* The erase without the lock: the application's safe point never waits
     * for flash. The slot is the stage's alone from the reservation on. */
    if (err == HOTRELOAD_OK && hr_store_erase(&the_stage.w) != 0) {
        stage_done(&the_stage);
        return say(HOTRELOAD_ERR_STORAGE, msg, msgsize, "cannot erase the storage slot");
    }
    if (err == HOTRELOAD_OK)
        *out = &the_stage;
    return err;
}

/* Streaming happens without the lock: the writer owns the free slot, which
 * neither reloads nor the status touch. */
hotreload_err_t hr_rt_stage_write(struct hr_stage *up, const void *data, size_t len)
{
    if (len > UINT32_MAX || hr_store_write(&up->w, data, (uint32_t)len) != 0)
        return HOTRELOAD_ERR_STORAGE;
    return HOTRELOAD_OK;
}

hotreload_err_t hr_rt_stage_digest(struct hr_stage *up, uint8_t sha256[32], char *msg,
                                   size_t msgsize)
{
    if (hr_store_finish(&up->w, sha256) != 0) {
        hr_fmt(msg, msgsize, "upload incomplete: %u of %u bytes arrived", up->w.written,
               up->w.length);
        return HOTRELOAD_ERR_ARG;
    }
    up->digested = true;
    return HOTRELOAD_OK;
}

void hr_rt_stage_abort(struct hr_stage *up)
{
    hr_store_abort(&up->w);
    stage_done(up);
}

/* Prepare the module from the staged bytes, read back once: that read-back
 * is also the check commit would otherwise make. No lock: the application
 * runs on while the image is parsed and relocated. */
static hotreload_err_t prepare(struct hr_stage *up, struct hr_prepared *p, char *msg,
                               size_t msgsize)
{
    struct hr_image img;
    const void *bytes;
    void *buf = NULL;
    if (hr_store_staged(&up->w, hr_rt.pf->mem, &img, &bytes, &buf) != 0)
        return say(HOTRELOAD_ERR_STORAGE, msg, msgsize, "the stored bytes do not read back");
    hotreload_err_t err = hr_rt_prepare(bytes, img.length, img.sha256, 0, p, msg, msgsize);
    hr_store_put(up->w.st, &img, bytes, buf, hr_rt.pf->mem);
    return err;
}

hotreload_err_t hr_rt_stage_commit(struct hr_stage *up, bool keep, char *msg, size_t msgsize)
{
    struct hr_prepared p = {0};
    hotreload_err_t err = HOTRELOAD_OK;
    if (!up->digested)
        err = hr_rt_stage_digest(up, up->w.digest, msg, msgsize);
    if (err == HOTRELOAD_OK)
        err = prepare(up, &p, msg, msgsize);
    struct hr_prepared stale = {0};
    struct hr_image img;
    const uint8_t *fwid = NULL;
    size_t fwlen = hr_rt.pf->firmware_id ? hr_rt.pf->firmware_id(hr_rt.pf->ctx, &fwid) : 0;
    /* The header (and, when the module is to start at the next safe point,
     * the TRIED mark: a device that restarts before or while bringing it up
     * falls back to the previous image) written without the lock. */
    if (err == HOTRELOAD_OK && hr_store_seal(&up->w, fwid, (uint32_t)fwlen, keep, &img) != 0)
        err = say(HOTRELOAD_ERR_STORAGE, msg, msgsize, "writing the image header failed");
    if (err == HOTRELOAD_OK) {
        hr_rt_lock();
        struct hr_rt_module *m = up->m;
        hr_store_adopt(&up->w, &img);
        /* One prepared module per module: a newer upload replaces it. */
        stale = m->prepared;
        m->prepared.mod = NULL;
        if (keep) {
            p.image_seq = img.seq;
            m->prepared = p;
            p.mod = NULL;
        }
        hr_rt_unlock();
    }
    hr_rt_drop_prepared(&p); /* not kept, or the commit failed */
    hr_rt_drop_prepared(&stale);
    if (err != HOTRELOAD_OK) {
        hr_store_abort(&up->w);
        hr_rt_lock();
        hr_fmt(hr_rt.last_error, sizeof hr_rt.last_error, "upload refused: %s", msg);
        hr_rt.error_current = true;
        hr_rt_unlock();
    }
    stage_done(up);
    return err;
}

static hotreload_err_t request(const char *module, bool unload, uint32_t timeout_ms, char *msg,
                               size_t msgsize)
{
    hr_rt_lock();
    struct hr_rt_module *m = hr_rt_find(module);
    if (!m) {
        hr_rt_not_found(module, msg, msgsize);
        hr_rt_unlock();
        return HOTRELOAD_ERR_NOT_FOUND;
    }
    uint32_t ticket = ++m->req_ticket;
    if (unload)
        m->want_unload = true;
    else
        m->want_reload = true;
    m->waiters++;
    hr_rt_unlock();
    uint64_t start = hr_rt.pf->now_ms(hr_rt.pf->ctx);
    for (;;) {
        hr_rt_lock();
        bool done = (int32_t)(m->done_ticket - ticket) >= 0;
        bool gone = !done && hr_rt.pf->now_ms(hr_rt.pf->ctx) - start >= timeout_ms;
        if (done || gone) {
            /* The old module's memory, left by the safe point for us. */
            m->waiters--;
            struct hr_module *old = hr_rt_take_retired(m);
            hotreload_err_t err = m->req_result;
            hr_fmt(msg, msgsize, "%s", err ? m->req_msg : "");
            uint32_t gen = m->generation;
            hr_rt_unlock();
            hr_module_free(old);
            if (gone)
                break;
            if (!err)
                hr_fmt(msg, msgsize, "module '%s' generation %u", m->name, gen);
            return err;
        }
        hr_rt_unlock();
        hr_rt.pf->sleep_ms(hr_rt.pf->ctx, 2);
    }
    hr_fmt(msg, msgsize, "the application did not reach a safe point (hotreload_poll) within "
           "%u ms; the request stays pending and runs at the next one", timeout_ms);
    return HOTRELOAD_ERR_TIMEOUT;
}

hotreload_err_t hr_rt_request_reload(const char *module, uint32_t timeout_ms, char *msg,
                                     size_t msgsize)
{
    return request(module, false, timeout_ms, msg, msgsize);
}

hotreload_err_t hr_rt_request_unload(const char *module, uint32_t timeout_ms, char *msg,
                                     size_t msgsize)
{
    return request(module, true, timeout_ms, msg, msgsize);
}

bool hr_rt_symbol(const char *module, size_t i, const char **name, uintptr_t *addr,
                  bool *is_func)
{
    bool ok = false;
    hr_rt_lock();
    struct hr_rt_module *m = hr_rt_find(module);
    const struct hr_export_info *e = m && m->mod ? hr_module_export(m->mod, i) : NULL;
    if (e) {
        *name = e->name;
        *addr = (uintptr_t)e->addr;
        *is_func = e->kind == HR_EXPORT_FUNC;
        ok = true;
    }
    hr_rt_unlock();
    return ok;
}

const char *hr_rt_nonce(void)
{
    hr_rt_start();
    return hr_rt.nonce;
}

const struct hr_inflater *hr_rt_inflater(void)
{
    hr_rt_start();
    return hr_rt.pf->inflate;
}

uint64_t hr_rt_counter_last(void)
{
    hr_rt_lock();
    uint64_t v = hr_rt.counter_last;
    hr_rt_unlock();
    return v;
}

bool hr_rt_counter_accept(uint64_t counter)
{
    hr_rt_lock();
    bool ok = counter > hr_rt.counter_last;
    if (ok)
        hr_rt.counter_last = counter;
    hr_rt_unlock();
    return ok;
}

hotreload_err_t hr_http_check_config(const hotreload_server_config_t *config)
{
    hr_rt_start();
    if (!config)
        return hr_rt_fail(HOTRELOAD_ERR_ARG, "HTTP server: no configuration");
    if (!config->auth_disabled && !config->auth_pubkey &&
        (!config->auth_key || !config->auth_key_len))
        return hr_rt_fail(HOTRELOAD_ERR_ARG, "HTTP server: no authentication key (auth_pubkey, "
                          "or the HMAC auth_key); set one, or opt out explicitly with "
                          "auth_disabled");
    if (!config->auth_disabled && !hr_rt.nonce[0])
        return hr_rt_fail(HOTRELOAD_ERR_STATE, "HTTP server: not started: the platform has no "
                          "random source for the request nonce (logged at start), so a "
                          "signed request could be replayed; give the port a hardware random "
                          "generator (hotreload/port.h, `random`)");
    return HOTRELOAD_OK;
}
