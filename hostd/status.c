/* hotd status: what a device runs (GET /status, docs/http.md), as a table
 * or as the device's JSON. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../agent/runtime/auth.h"
#include "../agent/runtime/sha256.h"
#include "client.h"
#include "curl_lib.h"
#include "hotd.h"
#include "json.h"
#include "options.h"

enum { URL, BUILD, JSON };
static const struct hotd_opt options[] = {
    [URL] = {"url", 0, "URL", "the device (default: $HOTRELOAD_URL, else\n"
                              "http://127.0.0.1:8080); repeatable"},
    [BUILD] = {"build", 0, "DIR", "the build whose hotreload.key signs the request, so\n"
                                  "the device shows the sections' addresses (default:\n"
                                  "$HOTRELOAD_BUILD, else ./build; without a key: unsigned)"},
    [JSON] = {"json", 0, NULL, "print the device's JSON document as it came"},
    {0},
};

static const struct hotd_cmd command = {
    .name = "status",
    .usage =
    "usage: hotd status [--url URL]... [--build DIR] [--json]\n"
    "\n"
    "Show what a device runs: its firmware build-id and, for each module, whether it\n"
    "is loaded, its generation, the stored image, its sections with their addresses\n"
    "and sizes, the persistent variables the last reload carried over or dropped.\n"
    "The addresses are shown only to a request signed with the build's key.\n",
    .opts = options,
};

/* Names and messages come from the device: printable text only. */
static void put_clean(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        putchar(*p < 0x20 || *p == 0x7f ? '?' : *p);
}

static const char *str_or(const struct json *obj, const char *key, const char *dflt)
{
    return json_get_str(obj, key, dflt);
}

static void print_list(const struct json *obj, const char *key)
{
    const struct json *a = json_get(obj, key);
    int n = 0;
    for (const struct json *e = a && a->type == JSON_ARR ? a->child : NULL; e; e = e->next) {
        if (e->type != JSON_STR)
            continue;
        fputs(n++ ? ", " : "", stdout);
        put_clean(e->str);
    }
    fputs(n ? "" : "-", stdout);
}

static void print_module(const struct json *m, bool addresses)
{
    const struct json *image = json_get(m, "image"), *stored = json_get(m, "stored");
    const struct json *sections = json_get(m, "sections"), *persist = json_get(m, "persist");
    printf("\nmodule ");
    put_clean(str_or(m, "name", "?"));
    bool requested = json_get_bool(m, "requested", false);
    printf(": %s, generation %.0f%s\n", json_get_bool(m, "loaded", false) ? "loaded" : "not loaded",
           json_get_num(m, "generation", 0),
           requested ? ", reload requested (waits for the application's safe point)"
           : json_get_bool(m, "pending", false) ? ", a newer image is stored (loaded at the "
                                                  "next start or reload)" : "");
    if (image)
        printf("  running   image seq %.0f%s, sha256 %.16s…\n", json_get_num(image, "seq", 0),
               json_get_bool(image, "confirmed", false) ? " (confirmed)" : " (not confirmed yet)",
               str_or(image, "sha256", "?"));
    if (stored)
        printf("  stored    seq %.0f, %s, %.0f bytes\n", json_get_num(stored, "seq", 0),
               str_or(stored, "state", "?"), json_get_num(stored, "size", 0));
    else
        printf("  stored    nothing\n");
    if (str_or(m, "build_id", NULL))
        printf("  build-id  %s\n", str_or(m, "build_id", ""));
    if (!addresses && json_get_bool(m, "loaded", false))
        printf("  sections  addresses shown only to a signed request: hotd status --build DIR\n"
               "            (the build whose hotreload.key the firmware has)\n");
    if (sections && sections->type == JSON_ARR && sections->child) {
        printf("  sections  %-20s %-18s %s\n", "name", "address", "size");
        for (const struct json *s = sections->child; s; s = s->next) {
            printf("            ");
            const char *name = str_or(s, "name", "?");
            put_clean(name);
            printf("%*s %-18s %.0f\n", (int)(strlen(name) < 20 ? 20 - strlen(name) : 0), "",
                   str_or(s, "addr", "?"), json_get_num(s, "size", 0));
        }
    }
    if (persist) {
        printf("  persist   carried: ");
        print_list(persist, "carried");
        printf("; dropped: ");
        print_list(persist, "dropped");
        printf("\n");
    }
}

int hotd_status_show(const char *url, const char *text)
{
    char msg[256];
    struct json *doc = json_parse(text, msg, sizeof msg);
    if (!doc || doc->type != JSON_OBJ) {
        fprintf(stderr, "hotd status: %s: %s\n", url, doc ? "not a JSON object" : msg);
        json_free(doc);
        return 1;
    }
    printf("device    %s (hotreload %s)\nfirmware  %s\n", url, str_or(doc, "version", "?"),
           str_or(doc, "firmware", "?"));
    const char *err = str_or(doc, "last_error", "");
    if (*err) {
        printf("last error: ");
        put_clean(err);
        printf("\n");
    }
    double unloaded = json_get_num(doc, "unloaded_calls", 0);
    if (unloaded > 0) {
        printf("calls to unloaded modules: %.0f (last: ", unloaded);
        put_clean(str_or(doc, "unloaded_last", "?"));
        printf(")\n");
    }
    const struct json *mods = json_get(doc, "modules");
    int n = 0;
    for (const struct json *m = mods && mods->type == JSON_ARR ? mods->child : NULL; m;
         m = m->next, n++)
        print_module(m, json_get_bool(doc, "addresses", true));
    if (n == 0)
        printf("\nno module registered\n");
    json_free(doc);
    return 0;
}

/* One GET /status with an optional header: 0 and the text, or -1 and why. */
static int fetch(const char *url, const char *header, char **json, char *msg, size_t msgsize)
{
    char full[1024], err[CURL_ERROR_SIZE] = "";
    struct hotd_body body = {0};
    long status = 0;
    snprintf(full, sizeof full, "%.*s/status", hotd_url_len(url), url);
    const struct hotd_curl *curl = hotd_curl(msg, msgsize);
    if (!curl)
        return -1;
    struct curl_slist *headers = header ? curl->slist_append(NULL, header) : NULL;
    CURL *easy = curl->easy_init();
    curl->easy_setopt(easy, CURLOPT_URL, full);
    curl->easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl->easy_setopt(easy, CURLOPT_WRITEFUNCTION, hotd_on_body);
    curl->easy_setopt(easy, CURLOPT_WRITEDATA, &body);
    curl->easy_setopt(easy, CURLOPT_ERRORBUFFER, err);
    curl->easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    curl->easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L);
    CURLcode code = curl->easy_perform(easy);
    curl->easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl->easy_cleanup(easy);
    curl->slist_free_all(headers);
    size_t len = body.len;
    char *text = body.data;
    if (code == CURLE_COULDNT_CONNECT)
        snprintf(msg, msgsize, "%s: cannot connect — is the device running and reachable?", url);
    else if (code == CURLE_WRITE_ERROR)
        snprintf(msg, msgsize, "%s: GET /status answered more than %u bytes: not a hotreload "
                 "device (their status is a few KB)", url, HOTD_ANSWER_MAX);
    else if (code != CURLE_OK)
        snprintf(msg, msgsize, "%s: %s — is the device running and reachable?", url,
                 err[0] ? err : curl->easy_strerror(code));
    else if (status == 403 && header)
        snprintf(msg, msgsize, "%s: the signed GET /status was refused (HTTP 403): is the key "
                 "that of the build that made the firmware? (--build DIR)", url);
    else if (status != 200 || !len)
        snprintf(msg, msgsize, "%s: GET /status answered HTTP %ld", url, status);
    if (code != CURLE_OK || status != 200 || !len) {
        free(text);
        return -1;
    }
    *json = text;
    return 0;
}

int hotd_get_status(const char *url, const struct hotd_key *key, char **json, char *msg,
                    size_t msgsize)
{
    char *first = NULL, auth[HR_AUTH_VALUE_MAX], line[HR_AUTH_VALUE_MAX + 32];
    uint8_t empty[32];
    if (fetch(url, NULL, &first, msg, msgsize) != 0 || !key) {
        *json = first;
        return first ? 0 : -1;
    }
    hr_sha256("", 0, empty);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    uint64_t ms = (uint64_t)now.tv_sec * 1000u + (uint64_t)now.tv_nsec / 1000000u;
    char why[400];
    int rc = hotd_sign_request(first, ms, key, "GET", "/status", empty, auth, NULL, why,
                               sizeof why);
    if (rc != 0) {
        snprintf(msg, msgsize, "%s: %s", url, why);
    } else {
        snprintf(line, sizeof line, "Authorization: %s", auth);
        rc = fetch(url, line, json, msg, msgsize);
    }
    free(first);
    return rc;
}

int cmd_status(int argc, char **argv)
{
    const char *urls[HOTD_MAX_URLS];
    size_t nurls = 0;
    bool json = false;
    const char *build = NULL;
    struct hotd_args a = {.cmd = &command};
    for (int o, bad = 0; (o = hotd_next_option(&a, argc, argv)) != HOTD_ARGS_END;) {
        switch (o) {
        case URL: bad = hotd_option_url(&a, urls, &nurls); break;
        case BUILD: build = a.value; break;
        case JSON: json = true; break;
        default: return hotd_args_exit(o);
        }
        if (bad)
            return hotd_args_exit(bad);
    }
    if (nurls == 0)
        urls[nurls++] = hotd_default_url();
    int rc = 0;
    char msg[512];
    struct hotd_key key;
    bool signing = hotd_load_key(hotd_build_dir(build), &key, msg, sizeof msg) == 0;
    for (size_t i = 0; i < nurls; i++) {
        char *text = NULL;
        if (hotd_get_status(urls[i], signing ? &key : NULL, &text, msg, sizeof msg) != 0) {
            fprintf(stderr, "hotd status: %s\n", msg);
            rc = 1;
            continue;
        }
        if (json) {
            fputs(text, stdout);
            if (!*text || text[strlen(text) - 1] != '\n')
                putchar('\n');
        } else {
            if (i)
                putchar('\n');
            rc |= hotd_status_show(urls[i], text);
        }
        free(text);
    }
    return rc;
}
