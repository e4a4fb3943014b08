/* What any Linux process needs to run module code, shared by the simulated
 * device (platform.c) and ESP-IDF's linux target (port/esp-idf): a trap
 * guard, the program's build-id, its exported symbols. Module memory is
 * host_mem.c's. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>

#include "host.h"

/* A trap in module code (constructor) returns here instead of killing the
 * simulated device. */
static __thread sigjmp_buf *trap_jmp;
static __thread int trap_sig;

static void on_trap(int sig)
{
    if (!trap_jmp) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    trap_sig = sig;
    siglongjmp(*trap_jmp, 1);
}

int hr_host_guarded_call(void *ctx, void (*fn)(void *), void *arg, char *why, size_t whysize)
{
    (void)ctx;
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP};
    struct sigaction sa, old[5];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_trap;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_NODEFER;
    for (int i = 0; i < 5; i++)
        sigaction(sigs[i], &sa, &old[i]);
    sigjmp_buf jb;
    volatile int trapped = 0;
    if (sigsetjmp(jb, 1) == 0) {
        trap_jmp = &jb;
        fn(arg);
    } else {
        trapped = 1;
        snprintf(why, whysize, "signal %d (%s)", trap_sig, strsignal(trap_sig));
    }
    trap_jmp = NULL;
    for (int i = 0; i < 5; i++)
        sigaction(sigs[i], &old[i], NULL);
    return trapped;
}

struct id_search {
    uint8_t id[64];
    size_t len;
};

/* The build-id note of the main program (the first object listed). */
static int find_build_id(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct id_search *s = data;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_NOTE)
            continue;
        const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
        const uint8_t *end = p + ph->p_memsz;
        while (p + 12 <= end) {
            uint32_t namesz, descsz, type;
            memcpy(&namesz, p, 4);
            memcpy(&descsz, p + 4, 4);
            memcpy(&type, p + 8, 4);
            const uint8_t *name = p + 12;
            const uint8_t *desc = name + ((namesz + 3) & ~3u);
            if (desc + descsz > end)
                break;
            if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(name, "GNU", 4) &&
                descsz <= sizeof s->id) {
                memcpy(s->id, desc, descsz);
                s->len = descsz;
                return 1;
            }
            p = desc + ((descsz + 3) & ~3u);
        }
    }
    return 1; /* only the main program counts */
}

static struct id_search build_id;

static void build_id_once(void)
{
    dl_iterate_phdr(find_build_id, &build_id);
}

size_t hr_host_firmware_id(void *ctx, const uint8_t **id)
{
    (void)ctx;
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_id_once);
    *id = build_id.id;
    return build_id.len;
}

int hr_host_resolve(void *ctx, const char *name, hr_addr_t *addr)
{
    (void)ctx;
    void *p = dlsym(RTLD_DEFAULT, name);
    if (!p)
        return -1;
    *addr = (hr_addr_t)(uintptr_t)p;
    return 0;
}

