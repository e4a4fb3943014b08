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
#include "hotreload/port.h"
#include "hotreload/transport.h"
#include "stage.h"
#include "sha256.h"

struct hr_upload {
    struct hr_stage *stage;
    bool reload, has_sha, is_signed;
    uint8_t sha[32];
    uint32_t length, reload_timeout_ms;
    char module[32];
    /* A compressed body: the port's inflater, its stream, the module bytes
     * it gave so far, and whether its stream ended. */
    const struct hr_inflater *zi;
    void *z;
    uint32_t inflated;
    bool z_end;
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
    const struct hr_inflater *zi = req->deflate ? hr_rt_inflater() : NULL;
    if (req->deflate && !zi)
        return refuse(ans, HOTRELOAD_ERR_ARG, HR_AUTH_OK, "this device takes no compressed "
                      "uploads (its port has no inflater): send the module uncompressed");
    if (module && strlen(module) >= sizeof the_session.module)
        return refuse(ans, HOTRELOAD_ERR_NOT_FOUND, HR_AUTH_OK, "no module '%s' is registered "
                      "on this device", module);
    struct hr_stage *stage;
    hotreload_err_t err = hr_rt_stage_begin(module, (uint32_t)req->length,
                                            policy->max_module_size, &stage, ans->msg,
                                            sizeof ans->msg);
    if (err)
        return refuse(ans, err, HR_AUTH_OK, "%s", ans->msg);
    void *z = zi ? zi->begin() : NULL;
    if (zi && !z) {
        hr_rt_stage_abort(stage);
        return refuse(ans, HOTRELOAD_ERR_NOMEM, HR_AUTH_OK, "no memory to inflate the "
                      "upload: send the module uncompressed");
    }
    struct hr_upload *up = &the_session; /* ours: the stage admits one upload */
    memset(up, 0, sizeof *up);
    up->zi = zi;
    up->z = z;
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

static hotreload_err_t write_fail(struct hr_upload *up, hotreload_err_t err,
                                  struct hr_upload_answer *ans)
{
    hr_upload_abort(up);
    return refuse(ans, err, HR_AUTH_OK, "storing the module failed (%s); nothing was stored",
                  hr_rt_err_name(err));
}

/* A compressed body: inflated piece by piece into the stage, never past the
 * module's announced length (a small body may inflate to gigabytes). */
static hotreload_err_t inflate_write(struct hr_upload *up, const uint8_t *in, size_t len,
                                     struct hr_upload_answer *ans)
{
    uint8_t out[256];
    char why[96] = "";
    while (len) {
        if (up->z_end) {
            hr_upload_abort(up);
            return refuse(ans, HOTRELOAD_ERR_ARG, HR_AUTH_OK, "bytes after the end of the "
                          "compressed module; nothing was stored");
        }
        size_t used = len, made = sizeof out;
        int rc = up->zi->run(up->z, in, &used, out, &made, why, sizeof why);
        if (rc < 0) {
            hr_upload_abort(up);
            return refuse(ans, HOTRELOAD_ERR_ARG, HR_AUTH_OK, "the compressed module is "
                          "corrupt (%s); nothing was stored", why);
        }
        if (made > up->length - up->inflated) {
            hr_upload_abort(up);
            return refuse(ans, HOTRELOAD_ERR_ARG, HR_AUTH_OK, "the compressed module inflates "
                          "to more than the %u bytes announced; nothing was stored",
                          (unsigned)up->length);
        }
        hotreload_err_t err = made ? hr_rt_stage_write(up->stage, out, made) : HOTRELOAD_OK;
        if (err)
            return write_fail(up, err, ans);
        up->inflated += (uint32_t)made;
        up->z_end = rc == 1;
        in += used;
        len -= used;
    }
    return HOTRELOAD_OK;
}

hotreload_err_t hr_upload_write(struct hr_upload *up, const void *data, size_t len,
                                struct hr_upload_answer *ans)
{
    if (up->z)
        return inflate_write(up, data, len, ans);
    hotreload_err_t err = hr_rt_stage_write(up->stage, data, len);
    return err ? write_fail(up, err, ans) : HOTRELOAD_OK;
}

/* The inflater's stream, given back once (finish and abort both end it). */
static void end_inflate(struct hr_upload *up)
{
    if (up->z)
        up->zi->end(up->z);
    up->z = NULL;
}

void hr_upload_abort(struct hr_upload *up)
{
    hr_rt_stage_abort(up->stage);
    up->stage = NULL;
    end_inflate(up);
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
    if (up->z && (!up->z_end || up->inflated != up->length)) {
        uint32_t got = up->inflated;
        hr_upload_abort(up);
        return refuse(ans, HOTRELOAD_ERR_ARG, HR_AUTH_OK, "the compressed module ends early "
                      "(%u of %u bytes inflated); nothing was stored", (unsigned)got,
                      (unsigned)up->length);
    }
    end_inflate(up);
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
