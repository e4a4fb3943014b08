/* The simulated device of the transport targets (device.h). */
#define _DEFAULT_SOURCE /* mkdtemp */
#include "device.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../hostd/json.h"
#include "auth.h"
#include "fuzz.h"
#include "rt.h"
#include "sha256.h"

const uint8_t fuzz_key[FUZZ_KEY_LEN] = "the fuzzing device's 32-byte key";

bool fuzz_verbose;
static char dir[64];

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[sizeof dir + 300];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.')
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

void fuzz_device_start(void)
{
    fuzz_verbose = getenv("FUZZ_VERBOSE") != NULL;
    /* tmpfs when there is one: the posix storage syncs every erase. */
    snprintf(dir, sizeof dir, "%s/hotreload-fuzz-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    FUZZ_CHECK(mkdtemp(dir), "cannot make a storage directory in %s", dir);
    setenv("HOTRELOAD_STORAGE_DIR", dir, 1);
    /* Small partitions: erases stay cheap and uploads can outgrow a slot. */
    setenv("HOTRELOAD_STORAGE_SIZE", "65536", 1);
    static const char *const names[] = {"main", "aux"};
    for (int i = 0; i < 2; i++) {
        hotreload_config_t c = HOTRELOAD_CONFIG_DEFAULT();
        c.module = names[i];
        c.partition = names[i];
        c.max_module_size = i ? 1024 : 128 * 1024;
        /* Nothing is stored yet: the module is registered, not loaded. */
        hotreload_err_t err = hotreload_load(&c);
        FUZZ_CHECK(err == HOTRELOAD_ERR_NOT_FOUND, "registering '%s': %s", names[i],
                   hotreload_last_error());
    }
    /* The runtime keeps its partitions open and mapped from here on: their
     * names can go now, so that nothing is left behind, even by a process
     * that dies of what it found (exit handlers would not run then). */
    remove_dir();
    fuzz_device_reset();
}

void fuzz_device_reset(void)
{
    /* Inputs must not depend on each other: a crash found in a run must
     * replay alone. Nothing here is what an input could not do itself. */
    hr_rt.counter_last = 0;
    hr_rt.last_error[0] = '\0';
    for (int i = 0; i < HR_MAX_MODULES; i++) {
        hr_rt.mods[i].want_reload = hr_rt.mods[i].want_unload = false;
        hr_rt.mods[i].done_ticket = hr_rt.mods[i].req_ticket;
    }
}

void fuzz_device_check(void)
{
    FUZZ_CHECK(!hr_rt.uploading, "an upload was left open");
    for (int i = 0; i < HR_MAX_MODULES; i++)
        FUZZ_CHECK(!hr_rt.mods[i].mod, "module '%s' got loaded", hr_rt.mods[i].name);
}

uint8_t *fuzz_bind(const uint8_t *d, size_t n)
{
    const size_t k = sizeof FUZZ_FWID_MARK - 1;
    const uint8_t *id;
    if (hr_rt.pf->firmware_id(hr_rt.pf->ctx, &id) != k)
        return NULL;
    uint8_t *copy = NULL;
    for (size_t i = 0; i + k <= n; i++) {
        if (memcmp(d + i, FUZZ_FWID_MARK, k) != 0)
            continue;
        if (!copy) {
            copy = malloc(n);
            FUZZ_CHECK(copy, "out of memory");
            memcpy(copy, d, n);
        }
        memcpy(copy + i, id, k);
    }
    return copy;
}

int fuzz_sign(const char *method, const char *target, const void *body, size_t len, char *auth)
{
    uint8_t sha[32];
    hr_sha256(body, len, sha);
    return hr_auth_sign(fuzz_key, sizeof fuzz_key, method, target, hr_rt_nonce(),
                        hr_rt_counter_last() + 1, sha, auth);
}

int fuzz_json_answer(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK(text[i] >= 0x20 && text[i] < 0x7f, "byte %#x at %zu of an answer",
                   (unsigned char)text[i], i);
    char *copy = malloc(len + 1), msg[256];
    FUZZ_CHECK(copy, "out of memory");
    memcpy(copy, text, len);
    copy[len] = '\0';
    struct json *j = json_parse(copy, msg, sizeof msg);
    FUZZ_CHECK(j && j->type == JSON_OBJ, "answer hotd cannot read (%s): %s", msg, copy);
    const struct json *ok = json_get(j, "ok");
    FUZZ_CHECK(ok && ok->type == JSON_BOOL, "answer without \"ok\": %s", copy);
    int r = ok->boolean;
    if (!r) {
        const char *e = json_get_str(j, "error", "");
        FUZZ_CHECK(*e, "failure without an error: %s", copy);
    }
    json_free(j);
    free(copy);
    return r;
}
