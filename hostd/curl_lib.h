/* libcurl, loaded the first time a command talks HTTP.
 *
 * Linking libcurl costs every hotd process ~7 ms before main (the dynamic
 * linker binds ~10,000 symbols across the 30 libraries curl pulls in: TLS,
 * Kerberos, LDAP, ...). Most hotd runs never speak HTTP -- the build's
 * `stubs`, `bind` and `abi` steps, a serial push -- so the library is opened
 * with dlopen when a command first needs it, and called through this table. */
#ifndef HOTD_CURL_LIB_H
#define HOTD_CURL_LIB_H

#include <stddef.h>

#include <curl/curl.h>

struct hotd_curl {
    __typeof__(curl_global_init) *global_init;
    __typeof__(curl_global_cleanup) *global_cleanup;
    __typeof__(curl_easy_init) *easy_init;
    __typeof__(curl_easy_setopt) *easy_setopt;
    __typeof__(curl_easy_getinfo) *easy_getinfo;
    __typeof__(curl_easy_perform) *easy_perform;
    __typeof__(curl_easy_cleanup) *easy_cleanup;
    __typeof__(curl_easy_strerror) *easy_strerror;
    __typeof__(curl_slist_append) *slist_append;
    __typeof__(curl_slist_free_all) *slist_free_all;
    __typeof__(curl_multi_init) *multi_init;
    __typeof__(curl_multi_add_handle) *multi_add_handle;
    __typeof__(curl_multi_remove_handle) *multi_remove_handle;
    __typeof__(curl_multi_perform) *multi_perform;
    __typeof__(curl_multi_poll) *multi_poll;
    __typeof__(curl_multi_info_read) *multi_info_read;
    __typeof__(curl_multi_cleanup) *multi_cleanup;
};

/* The library, opened and initialised (curl_global_init) on the first call;
 * NULL when it cannot be, with the reason and the fix in `err`. */
const struct hotd_curl *hotd_curl(char *err, size_t errsize);

#endif
