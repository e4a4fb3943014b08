/* How long the application stands still at its safe point for a reload.
 *
 *   safe_point [--quick] NAME FUNCTIONS IMAGE [...]   (images bound to this program)
 *
 * Value: the one hotreload_poll() call that brings up a module an upload
 * prepared -- the upload session fed from a thread, as a transport feeds
 * it, while this thread polls. Baseline, the same module in the same run:
 * the full reload at the safe point, hotreload_reload() of the stored image
 * (read, parse, place, relocate, bring up), which is what every reload
 * cost the application before uploads prepared the module.
 * Storage: $HOTRELOAD_STORAGE_DIR. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "hotreload.h"
#include "hotreload/transport.h"
#include "timing.h"

struct upload {
    const char *module;
    const void *data;
    size_t size;
    bool reload;
    struct hr_upload_answer ans;
    volatile bool done;
};

static void *transport(void *arg)
{
    struct upload *u = arg;
    struct hr_upload_policy policy = {.auth_disabled = true, .max_module_size = 1u << 22,
                                      .reload_timeout_ms = 20000};
    struct hr_upload_request req = {.module = u->module, .length = u->size,
                                    .reload = u->reload};
    struct hr_upload *up;
    if (hr_upload_begin(&policy, &req, &up, &u->ans) == HOTRELOAD_OK &&
        hr_upload_write(up, u->data, u->size, &u->ans) == HOTRELOAD_OK)
        hr_upload_finish(up, &u->ans);
    u->done = true;
    return NULL;
}

static void fail(const char *name, const struct upload *u)
{
    fprintf(stderr, "safe_point: %s: %s %s\n", name, u->ans.msg, hotreload_last_error());
    exit(1);
}

/* Upload with reload from a thread; returns the ns of the poll that
 * brought the module up. */
static double pause_ns(struct upload *u)
{
    pthread_t t;
    double paused = -1;
    u->reload = true;
    u->done = false;
    pthread_create(&t, NULL, transport, u);
    while (!u->done) {
        double t0 = bench_now_ns();
        int changed = hotreload_poll();
        double t1 = bench_now_ns();
        if (changed)
            paused = t1 - t0;
    }
    pthread_join(t, NULL);
    return u->ans.err == HOTRELOAD_OK ? paused : -1;
}

/* Store only, then the full reload at the safe point. */
static double full_ns(struct upload *u, const hotreload_config_t *cfg)
{
    u->reload = false;
    transport(u);
    if (u->ans.err != HOTRELOAD_OK)
        return -1;
    double t0 = bench_now_ns();
    hotreload_err_t err = hotreload_reload(cfg);
    double t1 = bench_now_ns();
    return err == HOTRELOAD_OK ? t1 - t0 : -1;
}

static void measure(const char *name, const char *functions, const char *path, int samples)
{
    struct upload u = {.module = name};
    u.data = read_file(path, &u.size);
    hotreload_config_t cfg = HOTRELOAD_CONFIG_DEFAULT();
    cfg.module = name;
    cfg.partition = name;
    cfg.max_module_size = 1u << 22;
    cfg.confirm_after_ms = 0;
    hotreload_load(&cfg); /* registers; nothing stored yet */
    double pause[64], full[64];
    for (int i = 0; i < samples; i++) { /* in turn, so the machine's noise hits both */
        if ((full[i] = full_ns(&u, &cfg)) < 0)
            fail(name, &u);
        if ((pause[i] = pause_ns(&u)) < 0)
            fail(name, &u);
        pause[i] /= 1e3;
        full[i] /= 1e3;
    }
    struct bench_stats sp, sf;
    bench_stats_of(pause, samples, &sp);
    bench_stats_of(full, samples, &sf);
    char id[64], notes[256];
    snprintf(id, sizeof id, "safe_point_pause_%s", name);
    snprintf(notes, sizeof notes, "us the application stands in hotreload_poll() for a reload "
             "an upload prepared; baseline: hotreload_reload() of the stored image (load and "
             "bring-up); %s functions, image %zu B, %d samples", functions, u.size, samples);
    bench_result(id, sp.median, bench_spread(&sp), sf.median, bench_spread(&sf), "us", notes);
    hotreload_unload(&cfg);
    free((void *)u.data);
}

int main(int argc, char **argv)
{
    bool quick = bench_quick(argc, argv);
    int first = quick ? 2 : 1;
    if (argc - first < 3 || (argc - first) % 3 != 0) {
        fprintf(stderr, "usage: safe_point [--quick] NAME FUNCTIONS IMAGE [...]\n");
        return 2;
    }
    setenv("HOTRELOAD_STORAGE_SIZE", "4194304", 0); /* two slots of the largest module */
    for (int i = first; i < argc; i += 3)
        measure(argv[i], argv[i + 1], argv[i + 2], quick ? 5 : 31);
    return 0;
}
