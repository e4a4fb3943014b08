/* Address decoding for hotd console (decode.h).
 *
 * A module is an ET_REL object whose sections the device placed one by one,
 * in separate regions (text, rodata, data...), so no single load bias maps
 * it. libdwfl reports an ET_REL file offline with a layout of its own (and
 * checks every lookup against that layout's range), so each device address
 * is translated: find the device's section holding it (status JSON), then
 * the same-named section of the unstripped object in libdwfl's layout, and
 * look up the same offset there. Function+offset and file:line only depend
 * on the offset inside the section.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode.h"
#include "json.h"

struct dsection {
    char name[64];
    unsigned long long addr, size;
    unsigned long long offline; /* in libdwfl's layout; NO_OFFLINE: not in the object */
};

#define NO_OFFLINE (~0ull)

struct dmodule {
    char name[32];
    struct dsection *sec;
    size_t nsec;
    Dwfl *dwfl;          /* NULL: no unstripped object for it */
    Dwfl_Module *mod;
};

struct hotd_decoder {
    char *build;
    Dwfl *fw_dwfl;
    struct dmodule *mods;
    size_t nmods;
};

static char *debuginfo_path;
static const Dwfl_Callbacks module_cb = {
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};
static const Dwfl_Callbacks fw_cb = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = dwfl_offline_section_address,
    .debuginfo_path = &debuginfo_path,
};

struct hotd_decoder *hotd_decoder_new(const char *build, const char *firmware,
                                      unsigned long long fw_bias, char *msg, size_t msgsize)
{
    struct hotd_decoder *d = calloc(1, sizeof *d);
    if (!d || !(d->build = strdup(build ? build : "."))) {
        snprintf(msg, msgsize, "out of memory");
        free(d);
        return NULL;
    }
    if (firmware) {
        /* dwfl_report_elf takes the load address for ET_DYN (a PIE firmware
         * on the simulated device) and ignores it for ET_EXEC. */
        d->fw_dwfl = dwfl_begin(&fw_cb);
        if (!d->fw_dwfl || !dwfl_report_elf(d->fw_dwfl, "firmware", firmware, -1, fw_bias, false)) {
            snprintf(msg, msgsize, "%s: %s", firmware, dwfl_errmsg(-1));
            hotd_decoder_free(d);
            return NULL;
        }
        dwfl_report_end(d->fw_dwfl, NULL, NULL);
    }
    return d;
}

static void free_modules(struct dmodule *mods, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (mods[i].dwfl)
            dwfl_end(mods[i].dwfl);
        free(mods[i].sec);
    }
    free(mods);
}

void hotd_decoder_free(struct hotd_decoder *d)
{
    if (!d)
        return;
    if (d->fw_dwfl)
        dwfl_end(d->fw_dwfl);
    free_modules(d->mods, d->nmods);
    free(d->build);
    free(d);
}

/* Report BUILD/modules/NAME.debug.o with m's placement. A module without an
 * unstripped object is still known (its addresses decode to name+section). */
static void open_module(struct hotd_decoder *d, struct dmodule *m)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/modules/%s.debug.o", d->build, m->name);
    Dwfl *dwfl = dwfl_begin(&module_cb);
    if (!dwfl)
        return;
    dwfl_report_begin(dwfl);
    Dwfl_Module *mod = dwfl_report_offline(dwfl, m->name, path, -1);
    dwfl_report_end(dwfl, NULL, NULL);
    if (!mod) {
        dwfl_end(dwfl);
        return;
    }
    /* libdwfl wrote its layout into the section headers of its Elf. */
    Dwarf_Addr bias;
    Elf *elf = dwfl_module_getelf(mod, &bias);
    size_t shstrndx;
    if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0) {
        dwfl_end(dwfl);
        return;
    }
    for (size_t i = 0; i < m->nsec; i++) {
        m->sec[i].offline = NO_OFFLINE;
        for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
            GElf_Shdr sh;
            const char *name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
            if (name && (sh.sh_flags & SHF_ALLOC) && !strcmp(name, m->sec[i].name)) {
                m->sec[i].offline = sh.sh_addr + bias;
                break;
            }
        }
    }
    m->dwfl = dwfl;
    m->mod = mod;
}

int hotd_decoder_set_status(struct hotd_decoder *d, const char *json, char *msg, size_t msgsize)
{
    struct json *doc = json_parse(json, msg, msgsize);
    const struct json *list = doc ? json_get(doc, "modules") : NULL;
    if (!list || list->type != JSON_ARR) {
        if (doc)
            snprintf(msg, msgsize, "the status has no module list");
        json_free(doc);
        return -1;
    }
    size_t n = 0;
    for (const struct json *m = list->child; m; m = m->next)
        n++;
    struct dmodule *mods = calloc(n ? n : 1, sizeof *mods);
    size_t k = 0;
    for (const struct json *m = list->child; mods && m; m = m->next) {
        const struct json *secs = json_get(m, "sections");
        if (!json_get_bool(m, "loaded", false) || !secs || secs->type != JSON_ARR)
            continue;
        struct dmodule *dm = &mods[k++];
        snprintf(dm->name, sizeof dm->name, "%s", json_get_str(m, "name", "?"));
        for (const struct json *s = secs->child; s; s = s->next)
            dm->nsec++;
        dm->sec = calloc(dm->nsec ? dm->nsec : 1, sizeof *dm->sec);
        size_t j = 0;
        for (const struct json *s = secs->child; dm->sec && s; s = s->next, j++) {
            snprintf(dm->sec[j].name, sizeof dm->sec[j].name, "%s", json_get_str(s, "name", ""));
            dm->sec[j].addr = strtoull(json_get_str(s, "addr", "0"), NULL, 0);
            /* Converting a size no section has (negative, past 64 bits, NaN)
             * would be undefined: such a section covers nothing. */
            double size = json_get_num(s, "size", 0);
            dm->sec[j].size = size > 0 && size < 18446744073709551616.0 ? (unsigned long long)size
                                                                       : 0;
        }
        if (!dm->sec)
            dm->nsec = 0;
    }
    json_free(doc);
    if (!mods) {
        snprintf(msg, msgsize, "out of memory");
        return -1;
    }
    free_modules(d->mods, d->nmods);
    d->mods = mods;
    d->nmods = k;
    for (size_t i = 0; i < k; i++)
        open_module(d, &mods[i]);
    return 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* "sym+0xoff at file:line" from a Dwfl_Module holding addr. */
static bool describe(Dwfl_Module *mod, unsigned long long addr, char *out, size_t size)
{
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
    Dwfl_Line *line = dwfl_module_getsrc(mod, addr);
    int lineno = 0;
    const char *file = line ? dwfl_lineinfo(line, NULL, &lineno, NULL, NULL, NULL) : NULL;
    if (!name && !file)
        return false;
    int n = 0;
    if (name)
        n = off ? snprintf(out, size, "%s+%#llx", name, (unsigned long long)off)
                : snprintf(out, size, "%s", name);
    if (file && n >= 0 && (size_t)n < size)
        snprintf(out + n, size - (size_t)n, "%s%s:%d", name ? " at " : "", base_name(file), lineno);
    return true;
}

bool hotd_decode_addr(struct hotd_decoder *d, unsigned long long addr, char *out, size_t size)
{
    for (size_t i = 0; i < d->nmods; i++) {
        const struct dmodule *m = &d->mods[i];
        for (size_t j = 0; j < m->nsec; j++) {
            const struct dsection *s = &m->sec[j];
            if (addr < s->addr || addr - s->addr >= s->size)
                continue;
            if (m->mod && s->offline != NO_OFFLINE &&
                describe(m->mod, s->offline + (addr - s->addr), out, size))
                return true;
            /* No debug object (or nothing in it there): say where at least. */
            snprintf(out, size, "%s:%s+%#llx", m->name, s->name, addr - s->addr);
            return true;
        }
    }
    Dwfl_Module *fw = d->fw_dwfl ? dwfl_addrmodule(d->fw_dwfl, addr) : NULL;
    return fw && describe(fw, addr, out, size);
}

char *hotd_decode_line(struct hotd_decoder *d, const char *line)
{
    size_t cap = strlen(line) * 2 + 256, len = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (const char *p = line; *p;) {
        size_t digits = 0;
        bool starts = p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
                      (p == line || !isalnum((unsigned char)p[-1]));
        while (starts && isxdigit((unsigned char)p[2 + digits]))
            digits++;
        if (!starts || digits < 6 || digits > 16 || isalnum((unsigned char)p[2 + digits])) {
            size_t n = starts ? 2 + digits : 1;
            if (len + n + 1 > cap && !(out = realloc(out, cap = (len + n) * 2 + 64)))
                return NULL;
            memcpy(out + len, p, n);
            len += n;
            p += n;
            continue;
        }
        char what[512];
        unsigned long long addr = strtoull(p, NULL, 16);
        bool known = hotd_decode_addr(d, addr, what, sizeof what);
        size_t tok = 2 + digits, need = tok + (known ? strlen(what) + 3 : 0);
        if (len + need + 1 > cap && !(out = realloc(out, cap = (len + need) * 2 + 64)))
            return NULL;
        memcpy(out + len, p, tok);
        len += tok;
        if (known)
            len += (size_t)sprintf(out + len, " <%s>", what);
        p += tok;
    }
    out[len] = '\0';
    return out;
}
