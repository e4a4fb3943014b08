/* The reload transaction in-process: persistent state carried, the old
 * module kept when the new one is refused (unresolved import, missing
 * function, trapping constructor, other firmware), calls after unload
 * reported, and 1,000 reloads without memory growth.
 *
 *   reload_loop v1.o v2.o bad_import.o missing_fn.o bad_ctor.o other_fw.o */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hotreload.h"
#include "hotreload/debug.h"

/* The module's functions, called through the stubs `hotd stubs` generated
 * (main_stubs.S, main_symtab.c): before a module is loaded they reach
 * handlers that report the call and return 0. */
long mod_value(void);
long mod_calls(void);
extern const struct hotreload_symtab hotreload_symtab_main;

/* Something module code can import from the firmware. */
extern int fw_scale;
extern long fw_triple(long x);
extern int fw_fini_calls;
int fw_scale = 10;
int fw_fini_calls;
long fw_triple(long x) { return 3 * x; }

static int failed, passed, hooks_pre, hooks_post;

#define CHECK(cond, ...)                                                                       \
    do {                                                                                       \
        if (cond) {                                                                            \
            passed++;                                                                          \
        } else {                                                                               \
            failed++;                                                                          \
            printf("FAIL line %d: ", __LINE__);                                                \
            printf(__VA_ARGS__);                                                               \
            printf("\n");                                                                      \
        }                                                                                      \
    } while (0)

struct blob {
    void *data;
    size_t size;
};

static struct blob slurp(const char *path)
{
    struct blob b = {0};
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    b.size = (size_t)ftell(f);
    rewind(f);
    b.data = malloc(b.size);
    if (!b.data || fread(b.data, 1, b.size, f) != b.size)
        exit(2);
    fclose(f);
    return b;
}

/* The debug descriptor's objects for `module`; the one with the highest
 * generation in *latest. */
static int debug_objects(const char *module, const struct hotreload_debug_object **latest)
{
    int n = 0;
    *latest = NULL;
    for (int i = 0; i < HOTRELOAD_DEBUG_MAX_OBJECTS; i++) {
        const struct hotreload_debug_object *o = &hotreload_debug.objects[i];
        if (!o->nsections || strcmp(o->module, module) != 0)
            continue;
        n++;
        if (!*latest || o->generation > (*latest)->generation)
            *latest = o;
    }
    return n;
}

/* Does the descriptor place `addr` inside the module's .text? */
static bool in_text(const struct hotreload_debug_object *o, const void *addr)
{
    for (uint32_t i = 0; o && i < o->nsections; i++)
        if (!strcmp(o->sections[i].name, ".text"))
            return (uint64_t)(uintptr_t)addr - o->sections[i].addr < o->sections[i].size;
    return false;
}

static void pre(void *ctx) { hooks_pre += *(int *)ctx; }
static void post(void *ctx) { hooks_post += *(int *)ctx; }

static void refused(const hotreload_config_t *cfg, struct blob b, hotreload_err_t want,
                    const char *word, long value_before)
{
    long calls_before = mod_calls();
    hotreload_err_t err = hotreload_load_from_buffer(cfg, b.data, b.size);
    CHECK(err == want, "status %d, want %d (%s)", err, want, hotreload_last_error());
    CHECK(strstr(hotreload_last_error(), word), "message lacks '%s': %s", word,
          hotreload_last_error());
    CHECK(mod_value() == value_before, "old module not running after refusal: %ld",
          mod_value());
    long calls = mod_calls();
    CHECK(calls == calls_before + 1001, "old module's state changed by a refused reload: %ld "
          "after %ld", calls, calls_before);
    free(b.data);
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: reload_loop v1.o v2.o bad_import.o missing_fn.o bad_ctor.o "
                "other_fw.o\n");
        return 2;
    }
    /* Fresh storage for every run. */
    char dir[] = "/tmp/hr-reload-loop-XXXXXX";
    if (!mkdtemp(dir) || setenv("HOTRELOAD_STORAGE_DIR", dir, 1) != 0) {
        perror("mkdtemp");
        return 2;
    }
    struct blob v1 = slurp(argv[1]), v2 = slurp(argv[2]);
    hotreload_config_t cfg = HOTRELOAD_CONFIG_DEFAULT();
    cfg.symtab = &hotreload_symtab_main;
    int one = 1;
    hotreload_register_pre_hook(pre, &one);
    hotreload_register_post_hook(post, &one);

    CHECK(mod_value() == 0, "before any load the stub must reach the unloaded handler");
    CHECK(hotreload_load_from_buffer(&cfg, v1.data, v1.size) == HOTRELOAD_OK, "load v1: %s",
          hotreload_last_error());
    CHECK(mod_value() == 1, "v1 answers %ld", mod_value());
    CHECK(mod_calls() == 1001 && mod_calls() == 2002, "v1 counting");
    CHECK(hooks_pre == 1 && hooks_post == 1, "hooks ran %d/%d times", hooks_pre, hooks_post);
    CHECK(fw_fini_calls == 0, "no destructor runs at a load");
    const struct hotreload_debug_object *dbg;
    CHECK(hotreload_debug.version == HOTRELOAD_DEBUG_VERSION, "debug descriptor version");
    CHECK(debug_objects("main", &dbg) == 1 && dbg->generation == 1 &&
          in_text(dbg, hotreload_lookup("main", "mod_value")),
          "the debug descriptor shows v1 where it runs");
    CHECK(hotreload_debug.action == HOTRELOAD_DEBUG_CONSISTENT && hotreload_debug.changes == 2,
          "ADD then CONSISTENT announced (%u changes)", hotreload_debug.changes);

    CHECK(hotreload_load_from_buffer(&cfg, v2.data, v2.size) == HOTRELOAD_OK, "load v2: %s",
          hotreload_last_error());
    CHECK(mod_value() == 2, "v2 answers %ld", mod_value());
    CHECK(fw_fini_calls == 1, "v1's destructor ran when it was retired (%d)", fw_fini_calls);
    CHECK(debug_objects("main", &dbg) == 1 && dbg->generation == 2 &&
          in_text(dbg, hotreload_lookup("main", "mod_value")) && hotreload_debug.changes == 6,
          "the descriptor swapped v1 for v2 (ADD, CONSISTENT, DELETE, CONSISTENT: %u)",
          hotreload_debug.changes);
    /* kept carried (2 -> 3), fresh started over (0 -> 1) */
    CHECK(mod_calls() == 3001, "persistent carried, fresh reset: %ld", mod_calls() - 1);
    CHECK(hotreload_lookup("main", "mod_value") != NULL, "lookup of a function");
    CHECK(hotreload_lookup("main", "nothing") == NULL, "lookup of a missing symbol");
    long *version = hotreload_lookup("main", "mod_version");
    CHECK(version && *version == 2, "lookup of data: %ld", version ? *version : -1);

    refused(&cfg, slurp(argv[3]), HOTRELOAD_ERR_INVALID, "no_such_firmware_function", 2);
    refused(&cfg, slurp(argv[4]), HOTRELOAD_ERR_INVALID, "mod_calls", 2);
    uint32_t changes = hotreload_debug.changes;
    refused(&cfg, slurp(argv[5]), HOTRELOAD_ERR_INIT, "constructor", 2);
    CHECK(hotreload_debug.changes == changes + 4 && debug_objects("main", &dbg) == 1 &&
          dbg->generation == 2, "a module whose constructor trapped was announced and "
          "withdrawn before it was freed");
    refused(&cfg, slurp(argv[6]), HOTRELOAD_ERR_FIRMWARE, "rebuild the module", 2);

    /* A second module beside it, looked up by name (no stubs). */
    hotreload_config_t aux = HOTRELOAD_CONFIG_DEFAULT();
    aux.module = "aux";
    aux.partition = "aux";
    CHECK(hotreload_load_from_buffer(&aux, v1.data, v1.size) == HOTRELOAD_OK, "load aux: %s",
          hotreload_last_error());
    long (*aux_value)(void) = (long (*)(void))(uintptr_t)hotreload_lookup("aux", "mod_value");
    CHECK(aux_value && aux_value() == 1 && mod_value() == 2, "two modules side by side");
    CHECK(hotreload_lookup("aux", "fresh") == NULL, "static variables are not exported");
    CHECK(hotreload_unload(&aux) == HOTRELOAD_OK && mod_value() == 2,
          "unloading one module leaves the other running");
    CHECK(hotreload_lookup("aux", "mod_value") == NULL, "nothing to look up once unloaded");

    char status[4096];
    hotreload_status_json(status, sizeof status);
    CHECK(strstr(status, "\"carried\":[\"kept\"]"), "status names what was carried: %s", status);

    CHECK(hotreload_unload(&cfg) == HOTRELOAD_OK, "unload");
    CHECK(fw_fini_calls == 3, "destructors at unload (%d, want 3: v1, aux, v2)", fw_fini_calls);
    CHECK(mod_value() == 0, "after unload the stub reaches the unloaded handler");
    CHECK(debug_objects("main", &dbg) == 0, "nothing in the descriptor after unload");
    hotreload_status_json(status, sizeof status);
    CHECK(strstr(status, "\"unloaded_last\":\"mod_value\""), "status names the call: %s",
          status);

    /* Through storage: store, see it pending, reload at the safe point. */
    CHECK(hotreload_load_from_buffer(&cfg, v1.data, v1.size) == HOTRELOAD_OK, "reload v1");
    CHECK(hotreload_update_partition(&cfg, v2.data, v2.size) == HOTRELOAD_OK,
          "update_partition: %s", hotreload_last_error());
    CHECK(hotreload_update_available(), "a stored module newer than the running one is pending");
    CHECK(mod_value() == 1, "storing alone changes nothing");
    CHECK(hotreload_reload(&cfg) == HOTRELOAD_OK && mod_value() == 2, "reload from storage: %s",
          hotreload_last_error());
    CHECK(!hotreload_update_available(), "nothing pending after the reload");

    /* 1,000 reloads: the heap must not grow. */
    struct mallinfo2 before = {0}, after;
    int bad = 0;
    for (int i = 0; i < 1000; i++) {
        struct blob *b = i & 1 ? &v2 : &v1;
        if (hotreload_load_from_buffer(&cfg, b->data, b->size) != HOTRELOAD_OK ||
            mod_value() != (i & 1 ? 2 : 1))
            bad++;
        if (i == 9)
            before = mallinfo2();
    }
    after = mallinfo2();
    CHECK(bad == 0, "%d of 1000 reloads failed: %s", bad, hotreload_last_error());
    CHECK(after.uordblks <= before.uordblks + 4096, "heap grew from %zu to %zu bytes over "
          "990 reloads", before.uordblks, after.uordblks);
    /* The unload dropped the state; the 1,000 reloads then carried it. */
    long calls = mod_calls();
    CHECK(calls == 1001, "state after unload and 1000 reloads: %ld, want 1001", calls);
    hotreload_unload(&cfg);
    free(v1.data);
    free(v2.data);
    char path[64];
    snprintf(path, sizeof path, "%s/hotreload.partition", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/aux.partition", dir);
    unlink(path);
    rmdir(dir);
    printf("reload_loop: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
