/* hotd's key that signs uploads: BUILD/hotreload-sign.pem (HR2) or
 * BUILD/hotreload.key (HR1, HMAC), written by the build integration
 * (agent/cmake/hotreload.cmake). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../agent/runtime/auth.h"
#include "../agent/runtime/sha256.h"
#include "client.h"
#include "hotd.h"

int hotd_load_key(const char *build_dir, struct hotd_key *key, char *msg, size_t msgsize)
{
    char path[4096], *text;
    size_t n;
    memset(key, 0, sizeof *key);
    snprintf(path, sizeof path, "%s/hotreload-sign.pem", build_dir);
    if (access(path, F_OK) == 0)
        return hotd_sign_key_load(path, key, msg, msgsize);
    snprintf(path, sizeof path, "%s/hotreload.key", build_dir);
    if (hotd_read_file(path, &text, &n, msg, msgsize) != 0) {
        if (errno == ENOENT)
            snprintf(msg, msgsize, "no key in %s (hotreload-sign.pem, or hotreload.key with "
                     "HOTRELOAD_AUTH=hmac): build the project first (hotreload_link_firmware "
                     "writes it)", build_dir);
        return -1;
    }
    while (n && isspace((unsigned char)text[n - 1]))
        n--;
    text[n] = '\0';
    key->len = n / 2;
    int bad = n == 0 || n % 2 || key->len > sizeof key->bytes ||
              strspn(text, "0123456789abcdefABCDEF") != n;
    for (size_t i = 0; !bad && i < key->len; i++) {
        unsigned b;
        sscanf(text + 2 * i, "%2x", &b);
        key->bytes[i] = (uint8_t)b;
    }
    free(text);
    if (bad)
        snprintf(msg, msgsize, "%s: not a key (expected 64 hex digits)", path);
    return bad ? -1 : 0;
}

int hotd_sign_counter(const char *nonce, uint64_t last, uint64_t now_ms, uint64_t *counter,
                      char *msg, size_t msgsize)
{
    if (!nonce || strlen(nonce) != 32 || strspn(nonce, "0123456789abcdef") != 32) {
        snprintf(msg, msgsize, "the device's nonce '%.40s' is not 32 hex digits: not a hotreload "
                 "device, or something in between rewrote its answer; nothing signed",
                 nonce ? nonce : "(none)");
        return -1;
    }
    if (last >= now_ms + HOTD_COUNTER_AHEAD_MAX_MS) {
        snprintf(msg, msgsize, "the device asks for a counter above %" PRIu64 ", more than a day "
                 "ahead of this computer's clock (%" PRIu64 " ms): something in between may be "
                 "trying to lock the device out, or this clock is far behind; nothing signed "
                 "(restart the device, or set the clock)", last, now_ms);
        return -1;
    }
    *counter = last + 1 > now_ms ? last + 1 : now_ms;
    return 0;
}

int hotd_sign_command(const struct hotd_key *key, const char *words, const char *nonce,
                      uint64_t last, uint64_t *used, char *out, size_t size)
{
    char joined[512], auth[HR_AUTH_VALUE_MAX];
    size_t n = 0;
    for (const char *p = words; *p && n < sizeof joined - 1;) {
        size_t sp = strspn(p, " \t"), w;
        p += sp;
        if (!*p)
            break;
        w = strcspn(p, " \t");
        n += (size_t)snprintf(joined + n, sizeof joined - n, "%s%.*s", n ? " " : "", (int)w, p);
        p += w;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    uint8_t empty[32];
    hr_sha256("", 0, empty);
    if (hotd_sign_counter(nonce, last, now, used, out, size) != 0)
        return -1;
    if (n >= sizeof joined - 1 ||
        hotd_sign(key, "SERIAL", joined, nonce, *used, empty, auth) != 0) {
        snprintf(out, size, "cannot sign '%.80s': too long", words);
        return -1;
    }
    snprintf(out, size, "%s %s", joined, auth);
    return 0;
}
