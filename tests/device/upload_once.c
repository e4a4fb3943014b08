/* One upload + reload does each piece of work once (issue 13): the ELF is
 * parsed once, relocated once, and the body hashed at most twice (while it
 * streams in, and when the staged bytes are read back to prepare the
 * module); the application's safe point only brings the module up.
 *
 *   upload_once v1.o v2.o
 *
 * The upload runs as a transport runs it: the upload session (runtime.h)
 * fed from its own thread, while this thread, the application, calls
 * hotreload_poll(). The work is counted by wrapping the core's entry points
 * at link time (ld --wrap): hr_elf_open and hr_elf_open_any (every parse),
 * hr_apply_relocs (every relocation pass), hr_sha256 and hr_sha256_update
 * (bytes hashed). Storage: $HOTRELOAD_STORAGE_DIR. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../bench/file.h"
#include "hotreload.h"
#include "hotreload/transport.h"

struct hr_elf;
struct hr_ld;
struct hr_error;
struct hr_sha256;

static int parses, relocations, failed;
static size_t hashed;

int __real_hr_elf_open(struct hr_elf *elf, const void *img, size_t size, bool want64,
                       uint16_t machine, struct hr_error *err);
int __wrap_hr_elf_open(struct hr_elf *elf, const void *img, size_t size, bool want64,
                       uint16_t machine, struct hr_error *err);
int __wrap_hr_elf_open(struct hr_elf *elf, const void *img, size_t size, bool want64,
                       uint16_t machine, struct hr_error *err)
{
    parses++;
    return __real_hr_elf_open(elf, img, size, want64, machine, err);
}

/* hr_elf_open_any calls hr_elf_open inside elf.c, where no wrap applies. */
int __real_hr_elf_open_any(struct hr_elf *elf, const void *img, size_t size,
                           struct hr_error *err);
int __wrap_hr_elf_open_any(struct hr_elf *elf, const void *img, size_t size,
                           struct hr_error *err);
int __wrap_hr_elf_open_any(struct hr_elf *elf, const void *img, size_t size,
                           struct hr_error *err)
{
    parses++;
    return __real_hr_elf_open_any(elf, img, size, err);
}

int __real_hr_apply_relocs(struct hr_ld *ld, struct hr_error *err);
int __wrap_hr_apply_relocs(struct hr_ld *ld, struct hr_error *err);
int __wrap_hr_apply_relocs(struct hr_ld *ld, struct hr_error *err)
{
    relocations++;
    return __real_hr_apply_relocs(ld, err);
}

void __real_hr_sha256(const void *data, size_t len, uint8_t out[32]);
void __wrap_hr_sha256(const void *data, size_t len, uint8_t out[32]);
void __wrap_hr_sha256(const void *data, size_t len, uint8_t out[32])
{
    hashed += len;
    __real_hr_sha256(data, len, out);
}

void __real_hr_sha256_update(struct hr_sha256 *s, const void *data, size_t len);
void __wrap_hr_sha256_update(struct hr_sha256 *s, const void *data, size_t len);
void __wrap_hr_sha256_update(struct hr_sha256 *s, const void *data, size_t len)
{
    hashed += len;
    __real_hr_sha256_update(s, data, len);
}

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            failed++;                                                                          \
            printf("FAIL line %d: ", __LINE__);                                                \
            printf(__VA_ARGS__);                                                               \
            printf("\n");                                                                      \
        }                                                                                      \
    } while (0)

/* Something module code imports from the firmware (tests/device/mod/v1.c). */
extern int fw_scale;
extern long fw_triple(long x);
int fw_scale = 10;
long fw_triple(long x) { return 3 * x; }
int fw_fini_calls;

struct image {
    void *data;
    size_t size;
};

struct upload {
    struct image img;
    bool reload;
    struct hr_upload_answer ans;
    volatile bool done;
};

/* The transport's side: the body in 1 KiB pieces, as the HTTP server feeds
 * it. */
static void *transport(void *arg)
{
    struct upload *u = arg;
    struct hr_upload_policy policy = {.auth_disabled = true, .max_module_size = 1 << 20,
                                      .reload_timeout_ms = 10000};
    struct hr_upload_request req = {.module = "main", .length = u->img.size,
                                    .reload = u->reload};
    struct hr_upload *up;
    if (hr_upload_begin(&policy, &req, &up, &u->ans) == HOTRELOAD_OK) {
        const uint8_t *p = u->img.data;
        size_t off = 0;
        while (off < u->img.size) {
            size_t n = u->img.size - off < 1024 ? u->img.size - off : 1024;
            if (hr_upload_write(up, p + off, n, &u->ans) != HOTRELOAD_OK)
                break;
            off += n;
        }
        if (off == u->img.size)
            hr_upload_finish(up, &u->ans);
    }
    u->done = true;
    return NULL;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Upload (with or without reload) while the application polls. */
static void upload(struct upload *u)
{
    pthread_t t;
    u->done = false;
    pthread_create(&t, NULL, transport, u);
    double start = now_ms();
    while (!u->done && now_ms() - start < 20000)
        hotreload_poll();
    pthread_join(t, NULL);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: upload_once v1.o v2.o\n");
        return 2;
    }
    hotreload_config_t cfg = HOTRELOAD_CONFIG_DEFAULT();
    cfg.confirm_after_ms = 0;
    hotreload_load(&cfg); /* registers "main"; nothing stored yet */
    struct upload u = {.reload = true};
    u.img.data = read_file(argv[1], &u.img.size);
    upload(&u);
    CHECK(u.ans.err == HOTRELOAD_OK && u.ans.stored, "first upload: %s", u.ans.msg);
    free(u.img.data);

    /* The measured one: v2 over v1, uploaded and reloaded. */
    u.img.data = read_file(argv[2], &u.img.size);
    parses = relocations = 0;
    hashed = 0;
    upload(&u);
    CHECK(u.ans.err == HOTRELOAD_OK && u.ans.stored, "upload and reload: %s", u.ans.msg);
    long (*value)(void) = (long (*)(void))hotreload_lookup("main", "mod_value");
    CHECK(value && value() == 2, "the new module runs: mod_value() = %ld",
          value ? value() : -1L);
    double passes = (double)hashed / (double)u.img.size;
    printf("upload + reload of %zu bytes: %d parse(s), %d relocation pass(es), %.2f hash "
           "passes over the body (%zu bytes hashed)\n", u.img.size, parses, relocations, passes,
           hashed);
    CHECK(parses == 1, "the ELF is parsed once, not %d times", parses);
    CHECK(relocations == 1, "the module is relocated once, not %d times", relocations);
    CHECK(hashed < 2 * u.img.size + 1024, "the body is hashed at most twice, not %.2f times",
          passes);

    /* A store without reload checks the module (one parse), and the reload
     * then loads it from storage: a second parse, as before. */
    free(u.img.data);
    u.img.data = read_file(argv[1], &u.img.size);
    u.reload = false;
    parses = relocations = 0;
    upload(&u);
    CHECK(u.ans.err == HOTRELOAD_OK && parses == 1 && relocations == 1,
          "a store without reload checks the module once: %s", u.ans.msg);
    CHECK(hotreload_reload(&cfg) == HOTRELOAD_OK && parses == 2,
          "the reload after it loads from storage: %s", hotreload_last_error());
    value = (long (*)(void))hotreload_lookup("main", "mod_value");
    CHECK(value && value() == 1, "the stored module runs: %ld", value ? value() : -1L);
    free(u.img.data);
    printf("upload_once: %s\n", failed ? "FAILED" : "ok");
    return failed ? 1 : 0;
}
