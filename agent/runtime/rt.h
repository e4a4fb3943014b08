/* The runtime's private state, shared by its files. One runtime per device. */
#ifndef HR_RT_H
#define HR_RT_H

#include "hotreload.h"
#include "hotreload/debug.h"
#include "hotreload/loader.h"
#include "hotreload/transport.h"
#include "stage.h"
#include "storage.h"

#define HR_MAX_MODULES 4
#define HR_MAX_HOOKS 4
#define HR_NAME_MAX 32
#define HR_MSG_MAX 320
#define HR_PERSIST_REPORT 160

/* A module placed and relocated but not run yet: what an upload prepares
 * and the safe point brings up. Owns `mod` until brought up or dropped. */
struct hr_prepared {
    struct hr_module *mod;
    uint32_t image_seq;         /* the stored image it came from (0: a buffer) */
    uint8_t image_sha[32];
    uint8_t build_id[HR_FWID_MAX]; /* the module's own GNU build-id, if any */
    uint32_t build_id_len;
};

struct hr_rt_module {
    bool used;
    char name[HR_NAME_MAX];
    char partition[HR_NAME_MAX];
    const struct hotreload_symtab *symtab;
    uint32_t confirm_after_ms;
    size_t max_size;
    struct hr_store store;
    bool has_store;
    struct hr_module *mod;      /* running, or NULL */
    uint32_t generation;        /* counts successful loads */
    uint32_t image_seq;         /* stored image running (0: from a buffer) */
    uint8_t image_sha[32];      /* identity of the running image */
    uint8_t build_id[HR_FWID_MAX]; /* the module's own GNU build-id, if it has one */
    uint32_t build_id_len;
    uint64_t loaded_at_ms;
    bool confirmed;
    int table;                  /* which of symtab->tables is in use */
    /* What the last reload carried across, for the status. */
    char carried[HR_PERSIST_REPORT];
    char dropped[HR_PERSIST_REPORT];
    /* The newest upload, prepared for the next reload (mod NULL: none). */
    struct hr_prepared prepared;
    /* Requests from transports, served at the application's safe point. */
    uint32_t req_ticket, done_ticket;
    /* Transports waiting for a request; while one waits, the safe point
     * leaves the old module's memory (its destructors run, the debugger
     * told) in `retired` for the waiter to free: the application does not
     * stand still for it. */
    uint32_t waiters;
    struct hr_module *retired;
    bool want_reload, want_unload;
    hotreload_err_t req_result;
    char req_msg[HR_MSG_MAX];
};

struct hr_hook {
    hotreload_hook_fn_t fn;
    void *ctx;
};

struct hr_rt {
    const struct hr_platform *pf;
    bool started;
    struct hr_rt_module mods[HR_MAX_MODULES];
    struct hr_hook pre[HR_MAX_HOOKS], post[HR_MAX_HOOKS];
    char last_error[HR_MSG_MAX];
    bool error_current;           /* no requested reload succeeded since (GET /status) */
    char nonce[33];
    uint64_t counter_last;
    bool uploading;
    struct hr_module *debug_mods[HOTRELOAD_DEBUG_MAX_OBJECTS]; /* per descriptor entry */
    uint32_t unloaded_calls;
    char unloaded_last[HR_NAME_MAX * 2];
    bool unloaded_said;           /* logged since the start or the last unload */
};

extern struct hr_rt hr_rt;

/* Start the runtime on first use (platform, nonce). Call under no lock. */
void hr_rt_start(void);
void hr_rt_lock(void);
void hr_rt_unlock(void);

/* The module `name`; NULL: "main", else the only module. */
struct hr_rt_module *hr_rt_find(const char *name);
/* Why hr_rt_find(module) found nothing, naming the modules there are. */
void hr_rt_not_found(const char *module, char *msg, size_t msgsize);
/* A config naming no module, when the build registered modules (built.c):
 * fn(config of each), *result the first error; true when done so. */
bool hr_rt_each_built(const hotreload_config_t *config,
                      hotreload_err_t (*fn)(const hotreload_config_t *), hotreload_err_t *result);
/* The module's size limit: its max_module_size, else the default. */
size_t hr_rt_size_limit(const hotreload_config_t *config);
/* Find or register the module of `config`. */
hotreload_err_t hr_rt_register(const hotreload_config_t *config, struct hr_rt_module **out);

/* Prepare (swap.c): parse `image` once, check it was linked for this
 * firmware, place and relocate it; no module code runs. Needs no lock (the
 * application keeps running). `sha` is the image's SHA-256, already known
 * to the caller. On failure `msg` says why and nothing stays allocated. */
hotreload_err_t hr_rt_prepare(const void *image, size_t size, const uint8_t sha[32],
                              uint32_t image_seq, struct hr_prepared *out, char *msg,
                              size_t msgsize);
void hr_rt_drop_prepared(struct hr_prepared *p);
/* Bring up (swap.c), at the safe point, under the lock: the prepared module
 * becomes the new code of `m` (symbol table, persistent variables,
 * constructors, hooks, one pointer store), the old one is retired. Takes
 * `p`'s module whatever happens; on failure the old module keeps running. */
hotreload_err_t hr_rt_bring_up(struct hr_rt_module *m, struct hr_prepared *p);
/* Prepare and bring up in one go (a start, a buffer, a stored image). */
hotreload_err_t hr_rt_swap(struct hr_rt_module *m, const void *image, size_t size,
                           const uint8_t sha[32], uint32_t image_seq);
/* Retire the running module: destructors, stubs to the unloaded handlers,
 * memory freed (or left to a waiting transport, see `retired`). */
void hr_rt_retire(struct hr_rt_module *m);
/* Take what a safe point left in m->retired (NULL: nothing), under the
 * lock; the caller frees it once it has unlocked. */
struct hr_module *hr_rt_take_retired(struct hr_rt_module *m);
/* The loader's view of this device: its architecture, and the firmware's
 * symbols (if the platform can look them up). */
enum hr_arch hr_rt_native_arch(void);
int hr_rt_resolve(void *ctx, const char *name, hr_addr_t *addr);
/* Reload `m` from its newest stored image. */
hotreload_err_t hr_rt_reload_stored(struct hr_rt_module *m);

/* The debug descriptor (debug.c): a module placed and not yet run; a module
 * about to be freed (its memory still intact). */
void hr_debug_added(const char *name, struct hr_module *mod, uint32_t generation,
                    const uint8_t *build_id, uint32_t build_id_len);
void hr_debug_removing(struct hr_module *mod);

/* A tiny JSON writer (status.c). */
struct hr_json {
    char *buf;
    size_t size, len;
};
void hr_json_raw(struct hr_json *j, const char *s);
void hr_json_str(struct hr_json *j, const char *s);
void hr_json_hex(struct hr_json *j, const uint8_t *b, size_t n);
void hr_json_u64(struct hr_json *j, uint64_t v);
void hr_json_addr(struct hr_json *j, uint64_t v);

#endif
