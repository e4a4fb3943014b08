/* The status snapshot as JSON: what GET /status and the console's `status`
 * answer, and what hotd and the gdb helper read. */
#include <string.h>

#include "../core/fmt.h"
#include "hotreload/version.h"
#include "rt.h"
#include "sha256.h"

void hr_json_raw(struct hr_json *j, const char *s)
{
    for (; *s; s++, j->len++)
        if (j->len + 1 < j->size)
            j->buf[j->len] = *s;
    if (j->size)
        j->buf[j->len < j->size ? j->len : j->size - 1] = '\0';
}

void hr_json_str(struct hr_json *j, const char *s)
{
    char esc[8];
    hr_json_raw(j, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            esc[2] = '\0';
        } else if (*p < 0x20 || *p >= 0x7f) {
            /* Names come from hostile ELFs: any byte that could make the
             * document invalid UTF-8 is escaped (docs/http.md). */
            hr_fmt(esc, sizeof esc, "\\u%04x", *p);
        } else {
            esc[0] = (char)*p;
            esc[1] = '\0';
        }
        hr_json_raw(j, esc);
    }
    hr_json_raw(j, "\"");
}

void hr_json_hex(struct hr_json *j, const uint8_t *b, size_t n)
{
    char hex[2 * 32 + 1];
    hr_hex(b, n < 32 ? n : 32, hex);
    hr_json_str(j, hex);
}

void hr_json_u64(struct hr_json *j, uint64_t v)
{
    char num[24];
    hr_fmt(num, sizeof num, "%llu", (unsigned long long)v);
    hr_json_raw(j, num);
}

void hr_json_addr(struct hr_json *j, uint64_t v)
{
    char num[24];
    hr_fmt(num, sizeof num, "\"0x%llx\"", (unsigned long long)v);
    hr_json_raw(j, num);
}

/* "a,b" -> ["a","b"] */
static void json_list(struct hr_json *j, const char *csv)
{
    char item[HR_NAME_MAX * 2];
    hr_json_raw(j, "[");
    for (const char *p = csv; *p;) {
        size_t n = strcspn(p, ",");
        if (n >= sizeof item)
            n = sizeof item - 1;
        memcpy(item, p, n);
        item[n] = '\0';
        hr_json_str(j, item);
        p += strcspn(p, ",");
        if (*p == ',') {
            p++;
            hr_json_raw(j, ",");
        }
    }
    hr_json_raw(j, "]");
}

static const char *state_name(enum hr_image_state st)
{
    static const char *const names[] = {"none", "trial", "tried", "confirmed", "bad"};
    return (unsigned)st < 5 ? names[st] : "?";
}

/* Where the module's sections were placed: the memory layout. */
static void sections_json(struct hr_json *j, const struct hr_rt_module *m)
{
    hr_json_raw(j, ",\"sections\":[");
    for (size_t i = 0; i < hr_module_section_count(m->mod); i++) {
        const struct hr_section_info *s = hr_module_section(m->mod, i);
        hr_json_raw(j, i ? ",{\"name\":" : "{\"name\":");
        hr_json_str(j, s->name);
        hr_json_raw(j, ",\"addr\":");
        hr_json_addr(j, s->addr);
        hr_json_raw(j, ",\"size\":");
        hr_json_u64(j, s->size);
        hr_json_raw(j, "}");
    }
    hr_json_raw(j, "]");
}

static void module_json(struct hr_json *j, const struct hr_rt_module *m, bool addresses)
{
    hr_json_raw(j, "{\"name\":");
    hr_json_str(j, m->name);
    hr_json_raw(j, ",\"partition\":");
    hr_json_str(j, m->partition);
    hr_json_raw(j, m->mod ? ",\"loaded\":true" : ",\"loaded\":false");
    hr_json_raw(j, ",\"generation\":");
    hr_json_u64(j, m->generation);
    const struct hr_image *img = m->has_store ? hr_store_newest(&m->store) : NULL;
    bool pending = m->want_reload || (img && img->seq > m->image_seq && img->state != HR_IMAGE_BAD);
    hr_json_raw(j, pending ? ",\"pending\":true" : ",\"pending\":false");
    /* Asked for (a transport waits on it) rather than only stored. */
    hr_json_raw(j, m->want_reload || m->want_unload ? ",\"requested\":true"
                                                    : ",\"requested\":false");
    if (m->mod) {
        hr_json_raw(j, ",\"image\":{\"seq\":");
        hr_json_u64(j, m->image_seq);
        hr_json_raw(j, ",\"sha256\":");
        hr_json_hex(j, m->image_sha, 32);
        hr_json_raw(j, m->confirmed ? ",\"confirmed\":true}" : ",\"confirmed\":false}");
        hr_json_raw(j, ",\"build_id\":");
        if (m->build_id_len)
            hr_json_hex(j, m->build_id, m->build_id_len);
        else
            hr_json_raw(j, "null");
        if (addresses)
            sections_json(j, m);
    }
    if (img) {
        hr_json_raw(j, ",\"stored\":{\"seq\":");
        hr_json_u64(j, img->seq);
        hr_json_raw(j, ",\"state\":");
        hr_json_str(j, state_name(img->state));
        hr_json_raw(j, ",\"size\":");
        hr_json_u64(j, img->length);
        hr_json_raw(j, "}");
    }
    hr_json_raw(j, ",\"persist\":{\"carried\":");
    json_list(j, m->carried);
    hr_json_raw(j, ",\"dropped\":");
    json_list(j, m->dropped);
    hr_json_raw(j, "}}");
}

size_t hotreload_status_json(char *buf, size_t size)
{
    return hr_status_json(buf, size, true);
}

size_t hr_status_json(char *buf, size_t size, bool addresses)
{
    struct hr_json j = {buf, size, 0};
    hr_rt_lock();
    const uint8_t *fwid = NULL;
    size_t fwlen = hr_rt.pf->firmware_id ? hr_rt.pf->firmware_id(hr_rt.pf->ctx, &fwid) : 0;
    hr_json_raw(&j, "{\"ok\":true,\"version\":\"" HOTRELOAD_VERSION "\",\"firmware\":");
    hr_json_hex(&j, fwid, fwlen);
    hr_json_raw(&j, ",\"nonce\":");
    hr_json_str(&j, hr_rt.nonce);
    hr_json_raw(&j, ",\"counter\":");
    hr_json_u64(&j, hr_rt.counter_last);
    /* An error a later reload has overcome is history, not the state. */
    hr_json_raw(&j, ",\"last_error\":");
    hr_json_str(&j, hr_rt.error_current ? hr_rt.last_error : "");
    hr_json_raw(&j, addresses ? ",\"addresses\":true" : ",\"addresses\":false");
    hr_json_raw(&j, ",\"unloaded_calls\":");
    hr_json_u64(&j, hr_rt.unloaded_calls);
    if (hr_rt.unloaded_calls) {
        hr_json_raw(&j, ",\"unloaded_last\":");
        hr_json_str(&j, hr_rt.unloaded_last);
    }
    hr_json_raw(&j, ",\"modules\":[");
    bool first = true;
    for (int i = 0; i < HR_MAX_MODULES; i++) {
        if (!hr_rt.mods[i].used)
            continue;
        if (!first)
            hr_json_raw(&j, ",");
        first = false;
        module_json(&j, &hr_rt.mods[i], addresses);
    }
    hr_json_raw(&j, "]}");
    hr_rt_unlock();
    return j.len;
}
