/* libcurl through dlopen (why: curl_lib.h). */
#define _GNU_SOURCE
#include "curl_lib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* The soname of libcurl 7.16 and later, built in so that hotd opens the
 * library it was compiled against (CMake passes the one it linked). */
#ifndef HOTD_LIBCURL
#define HOTD_LIBCURL "libcurl.so.4"
#endif

#define CURL_FUNCTIONS(X)                                                                  \
    X(global_init) X(global_cleanup) X(easy_init) X(easy_setopt) X(easy_getinfo)          \
    X(easy_perform) X(easy_cleanup) X(easy_strerror) X(slist_append) X(slist_free_all)    \
    X(multi_init) X(multi_add_handle) X(multi_remove_handle) X(multi_perform)             \
    X(multi_poll) X(multi_info_read) X(multi_cleanup)

static struct hotd_curl lib;
static int state; /* 0: not tried, 1: loaded, -1: failed */
static char why[300];

static int load(void)
{
    void *h = dlopen(HOTD_LIBCURL, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(why, sizeof why, "HTTP needs libcurl, which could not be loaded (%s): "
                 "install it (Debian: apt-get install libcurl4)", dlerror());
        return -1;
    }
    /* dlsym returns a data pointer; POSIX guarantees it converts to a
     * function pointer (the memcpy keeps -Wpedantic quiet). */
#define RESOLVE(name)                                                                      \
    {                                                                                      \
        void *sym = dlsym(h, "curl_" #name);                                               \
        if (!sym) {                                                                        \
            snprintf(why, sizeof why, "%s has no curl_%s: libcurl 7.66 or later is "      \
                     "needed", HOTD_LIBCURL, #name);                                       \
            return -1;                                                                     \
        }                                                                                  \
        memcpy(&lib.name, &sym, sizeof sym);                                               \
    }
    CURL_FUNCTIONS(RESOLVE)
#undef RESOLVE
    if (lib.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(why, sizeof why, "libcurl could not initialise (curl_global_init failed)");
        return -1;
    }
    return 1;
}

const struct hotd_curl *hotd_curl(char *err, size_t errsize)
{
    if (!state)
        state = load();
    if (state < 0 && err && errsize)
        snprintf(err, errsize, "%s", why);
    return state > 0 ? &lib : NULL;
}
