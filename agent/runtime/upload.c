/* The upload session (runtime.h): the one path every upload takes, whatever
 * framed its bytes -- the HTTP server, the serial console, an ESP-IDF
 * esp_http_server handler, or the application's own
 * hotreload_update_partition. Policy lives here (limits, credential, replay
 * counter, the declared SHA-256); storage and the module's preparation are
 * the stage's (transport.c). */
#include <stdarg.h>
#include <string.h>

#include "../core/fmt.h"
#include "auth.h"
#include "hotreload/transport.h"
#include "stage.h"
#include "sha256.h"

struct hr_upload {
    struct hr_stage *stage;
    bool reload, has_sha, is_signed;
    uint8_t sha[32];
    uint32_t length, reload_timeout_ms;
    char module[32];
};

/* One session at a time, as one stage at a time: static, no heap. */
static struct hr_upload the_session;

static hotreload_err_t refuse(struct hr_upload_answer *ans, hotreload_err_t err,
                              enum hr_auth_result auth, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    hr_vfmt(ans->msg, sizeof ans->msg, fmt, ap);
    va_end(ap);
    ans->err = err;
    ans->auth = auth;
    return err;
}

/* The credential signs the request and the body's SHA-256, declared up
 * front: it is checked (and its counter spent) before anything is erased,
 * so a request without the key cannot touch storage. */
static hotreload_err_t check_credential(const struct hr_upload_policy *policy,
                                        const struct hr_upload_request *req,
                                        struct hr_upload_answer *ans)
{
    if (policy->auth_disabled)
        return HOTRELOAD_OK;
    if (!req->sha256 && req->credential)
        return refuse(ans, HOTRELOAD_ERR_ARG, HR_AUTH_MALFORMED, "a signed upload declares its "
                      "body's SHA-256 (HTTP: X-Hotreload-Sha256; see docs/http.md)");
    struct hr_auth_keys keys = {policy->auth_key, policy->auth_key_len, policy->auth_pubkey};
    enum hr_auth_result r = hr_auth_check(&keys, req->method, req->target, req->credential,
                                          req->credential_len, req->sha256, ans->msg,
                                          sizeof ans->msg);
    if (r != HR_AUTH_OK)
        return refuse(ans, HOTRELOAD_ERR_ARG, r, "%s", ans->msg);
    return HOTRELOAD_OK;
}

hotreload_err_t hr_upload_begin(const struct hr_upload_policy *policy,
                                const struct hr_upload_request *req, struct hr_upload **out,
                                struct hr_upload_answer *ans)
{
    memset(ans, 0, sizeof *ans);
    *out = NULL;
    const char *module = req->module && req->module[0] ? req->module : NULL; /* hr_rt_find */
    /* Limits first: a request refused for its size spends no counter. */
    if (req->length > UINT32_MAX)
        return refuse(ans, HOTRELOAD_ERR_TOO_LARGE, HR_AUTH_OK, "module of %llu bytes is over "
                      "the limit of any storage, 4 GiB", (unsigned long long)req->length);
    if (hr_rt_stage_fits(module, req->length, policy->max_module_size, ans->msg,
                         sizeof ans->msg) != HOTRELOAD_OK)
        return refuse(ans, HOTRELOAD_ERR_TOO_LARGE, HR_AUTH_OK, "%s", ans->msg);
    if (check_credential(policy, req, ans) != HOTRELOAD_OK)
        return ans->err;
    if (req->length == 0)
        return refuse(ans, HOTRELOAD_ERR_ARG, HR_AUTH_OK, "empty upload");
    if (module && strlen(module) >= sizeof the_session.module)
        return refuse(ans, HOTRELOAD_ERR_NOT_FOUND, HR_AUTH_OK, "no module '%s' is registered "
                      "on this device", module);
    struct hr_stage *stage;
    hotreload_err_t err = hr_rt_stage_begin(module, (uint32_t)req->length,
                                            policy->max_module_size, &stage, ans->msg,
                                            sizeof ans->msg);
    if (err)
        return refuse(ans, err, HR_AUTH_OK, "%s", ans->msg);
    struct hr_upload *up = &the_session; /* ours: the stage admits one upload */
    memset(up, 0, sizeof *up);
    up->stage = stage;
    up->reload = req->reload;
    up->length = (uint32_t)req->length;
    up->reload_timeout_ms = policy->reload_timeout_ms;
    up->has_sha = req->sha256 != NULL;
    up->is_signed = !policy->auth_disabled;
    if (up->has_sha)
        memcpy(up->sha, req->sha256, 32);
    hr_fmt(up->module, sizeof up->module, "%s", hr_rt_stage_module(stage));
    *out = up;
    return HOTRELOAD_OK;
}

hotreload_err_t hr_upload_write(struct hr_upload *up, const void *data, size_t len,
                                struct hr_upload_answer *ans)
{
    hotreload_err_t err = hr_rt_stage_write(up->stage, data, len);
    if (err == HOTRELOAD_OK)
        return err;
    hr_upload_abort(up);
    return refuse(ans, err, HR_AUTH_OK, "storing the module failed (%s); nothing was stored",
                  hr_rt_err_name(err));
}

void hr_upload_abort(struct hr_upload *up)
{
    hr_rt_stage_abort(up->stage);
    up->stage = NULL;
}

static hotreload_err_t finish(struct hr_upload *up, struct hr_upload_answer *ans);

/* The device's own time after the last body byte, in the answer: on a slow
 * link the sender's clock cannot tell transfer from work (the bytes wait in
 * socket buffers), so hotd reports the device's figure. */
hotreload_err_t hr_upload_finish(struct hr_upload *up, struct hr_upload_answer *ans)
{
    uint64_t t0 = hr_rt_now_ms();
    hotreload_err_t err = finish(up, ans);
    ans->device_ms = (uint32_t)(hr_rt_now_ms() - t0);
    return err;
}

static hotreload_err_t finish(struct hr_upload *up, struct hr_upload_answer *ans)
{
    hotreload_err_t err = hr_rt_stage_digest(up->stage, ans->sha256, ans->msg, sizeof ans->msg);
    if (err) {
        hr_upload_abort(up);
        return refuse(ans, err, HR_AUTH_OK, "%s; nothing was stored", ans->msg);
    }
    if (up->has_sha && !hr_memeq_ct(up->sha, ans->sha256, 32)) {
        char got[65], want[65];
        hr_hex(ans->sha256, 32, got);
        hr_hex(up->sha, 32, want);
        hr_upload_abort(up);
        return refuse(ans, HOTRELOAD_ERR_ARG, up->is_signed ? HR_AUTH_BAD_MAC : HR_AUTH_OK,
                      "sha256 mismatch%s: the body does not match the SHA-256 the "
                      "request declared (it hashes to %s, not %s); nothing was stored",
                      up->is_signed ? " (wrong mac)" : "", got, want);
    }
    err = hr_rt_stage_commit(up->stage, up->reload, ans->msg, sizeof ans->msg);
    up->stage = NULL;
    if (err)
        return refuse(ans, err, HR_AUTH_OK, "%s", ans->msg);
    ans->stored = true;
    ans->size = up->length;
    hr_fmt(ans->module, sizeof ans->module, "%s", up->module);
    hr_fmt(ans->msg, sizeof ans->msg, "stored module '%s'", up->module);
    if (up->reload) {
        err = hr_rt_request_reload(up->module, up->reload_timeout_ms, ans->msg, sizeof ans->msg);
        ans->err = err;
    }
    return err;
}
