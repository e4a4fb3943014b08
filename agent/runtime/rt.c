/* The runtime's one state and what every part of it uses: start-up, the
 * lock, the log, errors, finding a module. At the bottom of the runtime:
 * it calls no other runtime file. */
#include <stdarg.h>
#include <string.h>

#include "../core/fmt.h"
#include "rt.h"
#include "sha256.h"

struct hr_rt hr_rt;

void hr_rt_start(void)
{
    if (hr_rt.started)
        return;
    hr_rt.pf = hr_platform_get();
    uint8_t nonce[16];
    /* A predictable nonce would let a request signed in an earlier boot be
     * replayed: without a random source there is none (""), and signed
     * requests are refused (auth.c) rather than accepted against a guess. */
    if (hr_rt.pf->random && hr_rt.pf->random(hr_rt.pf->ctx, nonce, sizeof nonce) == 0)
        hr_hex(nonce, sizeof nonce, hr_rt.nonce);
    else
        hr_rt_log("hotreload: no random source for the request nonce: signed requests are "
                  "refused and the HTTP server does not start; the port's `random` must read a "
                  "hardware random generator (hotreload/port.h)");
    memset(nonce, 0, sizeof nonce);
    hr_rt.started = true;
}

uint64_t hr_rt_now_ms(void)
{
    hr_rt_start();
    return hr_rt.pf->now_ms ? hr_rt.pf->now_ms(hr_rt.pf->ctx) : 0;
}

void hr_rt_lock(void)
{
    hr_rt_start();
    if (hr_rt.pf->lock)
        hr_rt.pf->lock(hr_rt.pf->ctx);
}

void hr_rt_unlock(void)
{
    if (hr_rt.pf->unlock)
        hr_rt.pf->unlock(hr_rt.pf->ctx);
}

void hr_rt_log(const char *fmt, ...)
{
    char line[320];
    va_list ap;
    va_start(ap, fmt);
    hr_vfmt(line, sizeof line, fmt, ap);
    va_end(ap);
    if (hr_rt.pf && hr_rt.pf->log)
        hr_rt.pf->log(hr_rt.pf->ctx, line);
}

hotreload_err_t hr_rt_fail(hotreload_err_t err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hr_vfmt(hr_rt.last_error, sizeof hr_rt.last_error, fmt, ap);
    hr_rt.error_current = true;
    va_end(ap);
    hr_rt_log("hotreload: %s", hr_rt.last_error);
    return err;
}

const char *hotreload_last_error(void)
{
    return hr_rt.last_error;
}

struct hr_rt_module *hr_rt_find(const char *name)
{
    struct hr_rt_module *only = NULL;
    int used = 0;
    for (int i = 0; i < HR_MAX_MODULES; i++) {
        if (!hr_rt.mods[i].used)
            continue;
        if (strcmp(hr_rt.mods[i].name, name ? name : "main") == 0)
            return &hr_rt.mods[i];
        only = &hr_rt.mods[i];
        used++;
    }
    /* No name given (a console `reload`, a request without ?module=): "main",
     * else the device's only module. */
    return !name && used == 1 ? only : NULL;
}

void hr_rt_not_found(const char *module, char *msg, size_t msgsize)
{
    char list[HR_MAX_MODULES * HR_NAME_MAX] = "";
    size_t n = 0;
    for (int i = 0; i < HR_MAX_MODULES; i++)
        if (hr_rt.mods[i].used)
            n += hr_fmt(list + n, sizeof list - n, "%s%s", n ? ", " : "", hr_rt.mods[i].name);
    if (module)
        hr_fmt(msg, msgsize, "no module '%s' is registered on this device (its modules: %s)",
               module, n ? list : "none");
    else
        hr_fmt(msg, msgsize, "which module? the request names none and this device has %s%s",
               n ? "several: " : "none", list);
}

const char *hr_rt_err_name(hotreload_err_t err)
{
    static const char *const names[] = {
        "ok", "bad argument", "out of memory", "not found", "module would not load",
        "wrong firmware", "storage error", "constructor failed", "busy", "too large",
        "not possible now", "timed out"};
    return err >= 0 && (size_t)err < sizeof names / sizeof names[0] ? names[err] : "error";
}
