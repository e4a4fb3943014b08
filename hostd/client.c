/* hotd's HTTP client (docs/http.md): signed pushes to one or several devices
 * at once (curl multi). */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../agent/runtime/auth.h"
#include "../agent/runtime/sha256.h"
#include "client.h"
#include "curl_lib.h"
#include "hotd.h"
#include "json.h"
#include "progress.h"

#define ATTEMPTS 4 /* the first try, then retries after 200, 400, 800 ms */
/* libcurl, opened by hotd_push (curl_lib.h). */
static const struct hotd_curl *curl;

static const unsigned backoff_ms[ATTEMPTS - 1] = {200, 400, 800};

size_t hotd_on_body(char *p, size_t size, size_t n, void *userp)
{
    struct hotd_body *b = userp;
    size_t add = size * n;
    if (b->len + add > HOTD_ANSWER_MAX)
        return 0; /* no device answers a megabyte: stop */
    char *d = realloc(b->data, b->len + add + 1);
    if (!d)
        return 0;
    memcpy(d + b->len, p, add);
    b->len += add;
    d[b->len] = '\0';
    b->data = d;
    return add;
}

static double now_ms(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One device's push: GET /status (nonce, counter), the signed POST, then
 * GET /status again after a successful reload. */
enum phase { NONCE, SEND, AFTER, WAIT, DONE };

struct dev {
    struct hotd_push_result *r;
    CURL *easy;
    enum phase phase;
    struct hotd_body body;
    struct curl_slist *headers;
    char errbuf[CURL_ERROR_SIZE];
    char url[1024];
    double retry_at;
    curl_off_t sent;
    double upload_done_s; /* curl's clock at the last body byte, -1 before */
    char *first_status;   /* the first GET /status: this boot's nonce */
    uint64_t counter;     /* the last counter signed for this device */
};

struct push {
    const struct hotd_key *key;
    const char *module;
    const void *img;
    size_t len;
    bool reload;
    char fwid[129];      /* the firmware the image is bound to, hex ("" unknown) */
    char body_sha[65];
    uint8_t sha[32];
    CURLM *multi;
};

static int on_progress(void *clientp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    struct dev *d = clientp;
    (void)dltotal, (void)dlnow;
    d->sent = ulnow;
    if (ultotal > 0 && ulnow == ultotal && d->upload_done_s < 0)
        curl->easy_getinfo(d->easy, CURLINFO_TOTAL_TIME, &d->upload_done_s);
    return 0;
}

/* The device's root: URL without trailing slashes. */
int hotd_url_len(const char *url)
{
    size_t n = strlen(url);
    while (n && url[n - 1] == '/')
        n--;
    return n > 900 ? 900 : (int)n;
}

/* Start a transfer for the device's current phase. */
static void start(struct push *p, struct dev *d, const char *target)
{
    d->easy = curl->easy_init();
    free(d->body.data);
    d->body.data = NULL;
    d->body.len = 0;
    d->errbuf[0] = '\0';
    snprintf(d->url, sizeof d->url, "%.*s%s", hotd_url_len(d->r->url), d->r->url, target);
    curl->easy_setopt(d->easy, CURLOPT_URL, d->url);
    curl->easy_setopt(d->easy, CURLOPT_WRITEFUNCTION, hotd_on_body);
    curl->easy_setopt(d->easy, CURLOPT_WRITEDATA, &d->body);
    curl->easy_setopt(d->easy, CURLOPT_ERRORBUFFER, d->errbuf);
    curl->easy_setopt(d->easy, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
    /* The device waits up to 10 s for the application's safe point. */
    curl->easy_setopt(d->easy, CURLOPT_TIMEOUT_MS, d->phase == SEND ? 30000L : 5000L);
    curl->easy_setopt(d->easy, CURLOPT_PRIVATE, d);
    if (d->phase == AFTER) /* signed: the addresses are not shown to anyone */
        curl->easy_setopt(d->easy, CURLOPT_HTTPHEADER, d->headers);
    if (d->phase == SEND) {
        curl->easy_setopt(d->easy, CURLOPT_POSTFIELDS, p->img);
        curl->easy_setopt(d->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)p->len);
        curl->easy_setopt(d->easy, CURLOPT_HTTPHEADER, d->headers);
        curl->easy_setopt(d->easy, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl->easy_setopt(d->easy, CURLOPT_XFERINFODATA, d);
        curl->easy_setopt(d->easy, CURLOPT_NOPROGRESS, 0L);
        d->sent = 0;
        d->upload_done_s = -1;
    }
    curl->multi_add_handle(p->multi, d->easy);
}

/* Printable text only: a message may quote names from a hostile ELF. */
static void copy_clean(char *out, size_t size, const char *s)
{
    snprintf(out, size, "%s", s);
    for (char *c = out; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
}

static void advise(struct hotd_push_result *r)
{
    const char *a = "";
    int s = r->http_status;
    if (s == 409 && strstr(r->message, "firmware"))
        a = "rebuild and reflash the firmware (the module was built for another one)";
    else if (s == 403 && strstr(r->message, "stale"))
        a = "another client took the request counter first: push again";
    else if (s == 429)
        a = "the device paused its signature checks after wrong signatures: push again when "
            "the pause it names is over";
    else if (s == 401 || s == 403)
        a = HOTD_KEY_ADVICE;
    else if (s == 413)
        a = "the module is over the device's size limit";
    else if (s == 422)
        a = "fix the module: see the error above";
    else if (s == 504)
        a = "the application did not reach hotreload_poll() in time; the module is stored "
            "and will load at its next safe point";
    snprintf(r->advice, sizeof r->advice, "%s", a);
}

/* The device answered: "ok", and "error" or "message" verbatim. */
void hotd_read_answer(struct hotd_push_result *r, const char *body, const char *module,
                      size_t len)
{
    char msg[128];
    struct json *j = json_parse(body ? body : "", msg, sizeof msg);
    r->ok = r->http_status == 200 && json_get_bool(j, "ok", false);
    r->device_said_ms = json_get_num(j, "device_ms", -1);
    const char *text = json_get_str(j, r->ok ? "message" : "error", NULL);
    if (text)
        copy_clean(r->message, sizeof r->message, text);
    else if (r->ok)
        snprintf(r->message, sizeof r->message, "stored module '%s' (%zu bytes)", module, len);
    else
        snprintf(r->message, sizeof r->message, "HTTP %d%s%s", r->http_status,
                 j ? "" : ", not a hotreload answer: ", j ? "" : msg);
    if (!r->ok)
        advise(r);
    json_free(j);
}

static void read_answer(struct push *p, struct dev *d)
{
    hotd_read_answer(d->r, d->body.data, p->module, p->len);
}

static bool is_connection_error(CURLcode c)
{
    return c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST ||
           c == CURLE_SEND_ERROR || c == CURLE_RECV_ERROR || c == CURLE_GOT_NOTHING ||
           c == CURLE_OPERATION_TIMEDOUT || c == CURLE_PARTIAL_FILE;
}

int hotd_sign_request(const char *status, uint64_t now, const struct hotd_key *key,
                      const char *method, const char *target, const uint8_t sha[32],
                      char *auth, uint64_t *used, char *msg, size_t msgsize)
{
    struct json *j = json_parse(status ? status : "", msg, msgsize);
    const char *nonce = json_get_str(j, "nonce", NULL);
    double last = json_get_num(j, "counter", 0);
    uint64_t counter = 0;
    /* A counter no device has (2^64 or more, or negative): the device's
     * answer will name the one it wants. */
    uint64_t seen = last >= 0 && last < 18446744073709551616.0 ? (uint64_t)last : 0;
    int rc = -1;
    if (!j)
        snprintf(msg, msgsize, "GET /status is no JSON: is this a hotreload device?");
    else if (hotd_sign_counter(nonce, seen, now, &counter, msg, msgsize) == 0)
        rc = hotd_sign(key, method, target, nonce, counter, sha, auth);
    if (used)
        *used = counter;
    json_free(j);
    return rc;
}

int hotd_sign_push(const char *status, uint64_t now, const struct hotd_key *key,
                   const char *target, const uint8_t sha[32], char *auth, char *msg,
                   size_t msgsize)
{
    return hotd_sign_request(status, now, key, "POST", target, sha, auth, NULL, msg, msgsize);
}

/* The status after the reload, signed (the sections' addresses are only
 * shown so): this boot's nonce, a counter above the push's own. */
static void fetch_after(struct push *p, struct dev *d)
{
    char auth[HR_AUTH_VALUE_MAX], line[HR_AUTH_VALUE_MAX + 32];
    uint8_t empty[32];
    uint64_t now = (uint64_t)now_ms(CLOCK_REALTIME);
    hr_sha256("", 0, empty);
    char msg[256];
    if (hotd_sign_request(d->first_status, now > d->counter ? now : d->counter + 1, p->key,
                          "GET", "/status", empty, auth, NULL, msg, sizeof msg) != 0) {
        d->phase = DONE;
        return;
    }
    curl->slist_free_all(d->headers);
    snprintf(line, sizeof line, "Authorization: %s", auth);
    d->headers = curl->slist_append(NULL, line);
    d->phase = AFTER;
    start(p, d, "/status");
}

/* Sign the POST with this boot's nonce and a counter above the device's. */
/* The device's GET /status names the firmware it runs: a module bound to
 * another one is not sent (the device would refuse it, or a key that
 * differs too would hide the real cause behind "wrong mac"). */
static bool same_firmware(const struct push *p, struct dev *d)
{
    char msg[128];
    struct json *st = p->fwid[0] ? json_parse(d->body.data, msg, sizeof msg) : NULL;
    const char *runs = st ? json_get_str(st, "firmware", "") : "";
    bool same = !runs[0] || !strcmp(runs, p->fwid);
    if (!same) {
        snprintf(d->r->message, sizeof d->r->message, "the module was built for firmware "
                 "%.16s…, the device runs firmware %.16s…; nothing was sent", p->fwid, runs);
        snprintf(d->r->advice, sizeof d->r->advice, "build the module against the firmware "
                 "the device runs (its build folder), or flash/restart the device with this "
                 "build's firmware");
    }
    json_free(st);
    return same;
}

static void sign_and_send(struct push *p, struct dev *d)
{
    struct hotd_push_result *r = d->r;
    if (!same_firmware(p, d)) {
        d->phase = DONE;
        return;
    }
    char target[96], auth[HR_AUTH_VALUE_MAX], line[HR_AUTH_VALUE_MAX + 32];
    snprintf(target, sizeof target, "/%s?module=%s", p->reload ? "upload-and-reload" : "upload",
             p->module);
    char msg[sizeof r->message];
    if (hotd_sign_request(d->body.data, (uint64_t)now_ms(CLOCK_REALTIME), p->key, "POST", target,
                          p->sha, auth, &d->counter, msg, sizeof msg) != 0) {
        copy_clean(r->message, sizeof r->message, msg);
        d->phase = DONE;
        return;
    }
    free(d->first_status);
    d->first_status = d->body.data; /* kept for the signed status after the reload */
    d->body.data = NULL;
    d->body.len = 0;
    curl->slist_free_all(d->headers);
    snprintf(line, sizeof line, "Authorization: %s", auth);
    d->headers = curl->slist_append(NULL, line);
    snprintf(line, sizeof line, "X-Hotreload-Sha256: %s", p->body_sha);
    d->headers = curl->slist_append(d->headers, line);
    d->headers = curl->slist_append(d->headers, "Content-Type: application/octet-stream");
    d->phase = SEND;
    start(p, d, target);
}

static void finished(struct push *p, struct dev *d, CURLcode code)
{
    struct hotd_push_result *r = d->r;
    long status = 0;
    curl->easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &status);
    if (code != CURLE_OK && d->phase != AFTER) {
        /* Once the whole body is out the device may have acted on it (stored,
         * or crashed loading it): sending it again is not a harmless retry. */
        bool acted = d->phase == SEND && d->upload_done_s >= 0;
        if (is_connection_error(code) && !acted && r->attempts < ATTEMPTS) {
            d->retry_at = now_ms(CLOCK_MONOTONIC) + backoff_ms[r->attempts - 1];
            d->phase = WAIT;
        } else {
            long os_errno = 0;
            curl->easy_getinfo(d->easy, CURLINFO_OS_ERRNO, &os_errno);
            /* "connection refused" says more than curl's "Couldn't connect". */
            if (code == CURLE_COULDNT_CONNECT && os_errno) {
                snprintf(r->message, sizeof r->message, "%s (%u attempts)",
                         strerror((int)os_errno), r->attempts);
                r->message[0] = (char)tolower((unsigned char)r->message[0]);
            } else {
                copy_clean(r->message, sizeof r->message,
                           d->errbuf[0] ? d->errbuf : curl->easy_strerror(code));
            }
            if (is_connection_error(code))
                snprintf(r->advice, sizeof r->advice,
                         "is the device running and reachable at %s?", r->url);
            if (code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_WEIRD_SERVER_REPLY) {
                snprintf(r->message, sizeof r->message, "what answers at %s does not speak "
                         "HTTP: it is not a hotreload HTTP endpoint", r->url);
                snprintf(r->advice, sizeof r->advice, "check the port; a serial console "
                         "exposed as a socket takes --serial tcp:HOST:PORT instead");
            }
            d->phase = DONE;
        }
    } else if (d->phase == NONCE && status != 200) {
        r->http_status = (int)status;
        read_answer(p, d);
        snprintf(r->message + strlen(r->message), sizeof r->message - strlen(r->message),
                 " (GET /status)");
        d->phase = DONE;
    } else if (d->phase == NONCE) {
        sign_and_send(p, d);
    } else if (d->phase == SEND) {
        double pre = 0, total = 0;
        curl->easy_getinfo(d->easy, CURLINFO_PRETRANSFER_TIME, &pre);
        curl->easy_getinfo(d->easy, CURLINFO_TOTAL_TIME, &total);
        if (d->upload_done_s < 0) /* no progress call after the last byte */
            curl->easy_getinfo(d->easy, CURLINFO_STARTTRANSFER_TIME, &d->upload_done_s);
        /* curl's clocks are taken at different points: never report < 0. */
        r->upload_ms = d->upload_done_s > pre ? (d->upload_done_s - pre) * 1e3 : 0;
        r->device_ms = total > d->upload_done_s ? (total - d->upload_done_s) * 1e3 : 0;
        r->http_status = (int)status;
        read_answer(p, d);
        /* curl's "all sent" is when the socket took the bytes; on a slow
         * device they wait there. The device's own figure is the truth. */
        if (r->device_said_ms >= 0 && r->device_said_ms <= (total - pre) * 1e3) {
            r->device_ms = r->device_said_ms;
            r->upload_ms = (total - pre) * 1e3 - r->device_said_ms;
        }
        d->phase = DONE;
        if (r->ok && p->reload)
            fetch_after(p, d);
    } else { /* AFTER: the sections' addresses, for gdb; optional */
        if (code == CURLE_OK && status == 200 && d->body.len < sizeof r->status_json)
            memcpy(r->status_json, d->body.data, d->body.len + 1);
        d->phase = DONE;
    }
}

/* The bytes sent over all devices; drawn only while a body is on its way. */
static void draw(struct dev *devs, size_t n, size_t len, struct hotd_progress *bar)
{
    double sent = 0;
    size_t busy = 0, sending = 0;
    for (size_t i = 0; i < n; i++) {
        enum phase ph = devs[i].phase;
        sent += ph == SEND ? (double)devs[i].sent : ph == AFTER || devs[i].r->ok ? (double)len : 0;
        busy += ph != DONE;
        sending += ph == SEND;
    }
    if (!sending)
        return;
    /* All handed to the sockets: a slow device may still be reading them. */
    char what[64];
    snprintf(what, sizeof what, "%zu device%s %s", busy, busy == 1 ? "" : "s",
             sent >= (double)len * (double)n ? "receiving and loading it" : "busy");
    hotd_progress_draw(bar, sent, what);
}

int hotd_push(const char *const *urls, size_t n, const struct hotd_key *key, const char *module,
              const void *img, size_t len, bool reload, bool progress,
              struct hotd_push_result *results)
{
    struct push p = {key, module ? module : "main", img, len, reload, "", {0}, {0}, NULL};
    struct dev *devs = calloc(n ? n : 1, sizeof *devs);
    int failed = 0;
    struct hotd_progress bar;
    double t0 = now_ms(CLOCK_MONOTONIC);
    if (!devs)
        return (int)n;
    char why[300];
    if (!(curl = hotd_curl(why, sizeof why))) {
        for (size_t i = 0; i < n; i++) {
            memset(&results[i], 0, sizeof results[i]);
            results[i].url = urls[i];
            snprintf(results[i].message, sizeof results[i].message, "%s", why);
        }
        free(devs);
        return (int)n;
    }
    hotd_progress_start(&bar, (double)len * (double)n, progress);
    p.multi = curl->multi_init();
    hr_sha256(img, len, p.sha);
    hr_hex(p.sha, 32, p.body_sha);
    hotd_image_fwid(img, len, p.fwid, sizeof p.fwid);
    for (size_t i = 0; i < n; i++) {
        memset(&results[i], 0, sizeof results[i]);
        results[i].url = urls[i];
        devs[i].r = &results[i];
        devs[i].phase = WAIT;
        devs[i].retry_at = t0;
    }
    for (size_t left = n; left;) {
        double now = now_ms(CLOCK_MONOTONIC), wait = 100;
        for (size_t i = 0; i < n; i++) {
            if (devs[i].phase != WAIT)
                continue;
            if (devs[i].retry_at <= now) {
                devs[i].r->attempts++;
                devs[i].phase = NONCE;
                start(&p, &devs[i], "/status");
            } else if (devs[i].retry_at - now < wait) {
                wait = devs[i].retry_at - now;
            }
        }
        int running;
        curl->multi_perform(p.multi, &running);
        CURLMsg *m;
        int queued;
        while ((m = curl->multi_info_read(p.multi, &queued))) {
            struct dev *d;
            if (m->msg != CURLMSG_DONE)
                continue;
            CURL *easy = m->easy_handle;
            CURLcode code = m->data.result;
            curl->easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&d);
            curl->multi_remove_handle(p.multi, easy);
            finished(&p, d, code);
            curl->easy_cleanup(easy);
            if (d->phase == DONE)
                left--;
        }
        if (left)
            draw(devs, n, len, &bar);
        if (left)
            curl->multi_poll(p.multi, NULL, 0, (int)wait + 1, NULL);
    }
    hotd_progress_end(&bar);
    for (size_t i = 0; i < n; i++) {
        failed += !results[i].ok;
        free(devs[i].body.data);
        free(devs[i].first_status);
        curl->slist_free_all(devs[i].headers);
    }
    curl->multi_cleanup(p.multi);
    free(devs);
    return failed;
}
