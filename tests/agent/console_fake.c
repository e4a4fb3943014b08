/* The fake runtime console_test.c runs the serial console against: the
 * hr_rt_* calls console.c and upload.c make, standing in for the real ones,
 * so that the protocol is tested alone. What they saw is in the counters
 * console_fake.h declares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console_fake.h"
#include "hotreload.h"
#include "hotreload/port.h"
#include "hotreload/transport.h"
#include "sha256.h"
#include "stage.h"

int failures;

struct hr_stage {
    uint8_t *bytes;
    uint32_t length, got;
};
static struct hr_stage fake_up;
int uploads_open, commits, aborts;
uint8_t committed[4096];
uint32_t committed_len;
uint64_t counter_last;

const char *hr_rt_stage_module(const struct hr_stage *st)
{
    (void)st;
    return "main";
}

/* The fake module's limit is what `committed` holds, and the console's cap. */
hotreload_err_t hr_rt_stage_fits(const char *module, uint64_t length, size_t max_size, char *msg,
                                 size_t msgsize)
{
    (void)module;
    if (length <= sizeof committed && (!max_size || length <= max_size))
        return HOTRELOAD_OK;
    snprintf(msg, msgsize, "module of %llu bytes is over the limit", (unsigned long long)length);
    return HOTRELOAD_ERR_TOO_LARGE;
}

hotreload_err_t hr_rt_stage_begin(const char *module, uint32_t length, size_t max_size,
                                  struct hr_stage **out, char *msg, size_t msgsize)
{
    if (module && strcmp(module, "main")) { /* NULL: the only module, "main" */
        snprintf(msg, msgsize, "no module '%s' is registered on this device", module);
        return HOTRELOAD_ERR_NOT_FOUND;
    }
    if (hr_rt_stage_fits(module, length, max_size, msg, msgsize) != HOTRELOAD_OK)
        return HOTRELOAD_ERR_TOO_LARGE;
    CHECK(uploads_open == 0);
    uploads_open++;
    fake_up.bytes = malloc(length);
    fake_up.length = length;
    fake_up.got = 0;
    *out = &fake_up;
    return HOTRELOAD_OK;
}

hotreload_err_t hr_rt_stage_write(struct hr_stage *up, const void *data, size_t len)
{
    if (len > up->length - up->got)
        return HOTRELOAD_ERR_STORAGE;
    memcpy(up->bytes + up->got, data, len);
    up->got += (uint32_t)len;
    return HOTRELOAD_OK;
}

hotreload_err_t hr_rt_stage_digest(struct hr_stage *up, uint8_t sha256[32], char *msg,
                                   size_t msgsize)
{
    if (up->got != up->length) {
        snprintf(msg, msgsize, "upload incomplete");
        return HOTRELOAD_ERR_ARG;
    }
    hr_sha256(up->bytes, up->length, sha256);
    return HOTRELOAD_OK;
}

static void upload_free(struct hr_stage *up)
{
    free(up->bytes);
    up->bytes = NULL;
    uploads_open--;
}

hotreload_err_t hr_rt_stage_commit(struct hr_stage *up, bool keep, char *msg, size_t msgsize)
{
    (void)keep;
    (void)msg, (void)msgsize;
    memcpy(committed, up->bytes, up->length);
    committed_len = up->length;
    commits++;
    upload_free(up);
    return HOTRELOAD_OK;
}

void hr_rt_stage_abort(struct hr_stage *up)
{
    aborts++;
    upload_free(up);
}

static hotreload_err_t request(const char *module, char *msg, size_t msgsize)
{
    snprintf(msg, msgsize, "module '%s' generation 2", module ? module : "main");
    return module && strcmp(module, "main") ? HOTRELOAD_ERR_NOT_FOUND : HOTRELOAD_OK;
}

hotreload_err_t hr_rt_request_reload(const char *module, uint32_t timeout_ms, char *msg,
                                     size_t msgsize)
{
    (void)timeout_ms;
    return request(module, msg, msgsize);
}

hotreload_err_t hr_rt_request_unload(const char *module, uint32_t timeout_ms, char *msg,
                                     size_t msgsize)
{
    (void)timeout_ms;
    return request(module, msg, msgsize);
}

bool hr_rt_symbol(const char *module, size_t i, const char **name, uintptr_t *addr,
                  bool *is_func)
{
    static const char *const names[] = {"tick", "counter"};
    if ((module && strcmp(module, "main")) || i >= 2)
        return false;
    *name = names[i];
    *addr = 0x1000 + i * 16;
    *is_func = i == 0;
    return true;
}

/* The simulated device's inflater (zlib): compressed uploads end to end. */
extern const struct hr_inflater hr_zlib_inflater;
const struct hr_inflater *hr_rt_inflater(void) { return &hr_zlib_inflater; }

const char *hr_rt_nonce(void) { return "0123456789abcdef0123456789abcdef"; }
uint64_t hr_rt_counter_last(void) { return counter_last; }
bool hr_rt_counter_accept(uint64_t counter)
{
    if (counter <= counter_last)
        return false;
    counter_last = counter;
    return true;
}
const char *hr_rt_err_name(hotreload_err_t err) { return err ? "failed" : "ok"; }
uint64_t hr_rt_now_ms(void) { return 0; }
size_t hotreload_status_json(char *buf, size_t size)
{
    return (size_t)snprintf(buf, size, "{\"modules\":[{\"name\":\"main\"}]}");
}
hotreload_err_t hotreload_confirm(void) { return HOTRELOAD_OK; }

/* ---- the host side ------------------------------------------------------- */
