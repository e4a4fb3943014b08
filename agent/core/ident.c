/* What a module says of itself, read from its sections without loading it:
 * the firmware it was linked for (.hotreload.fwid, written by `hotd bind`)
 * and its own GNU build-id (what the debugger matches NAME.debug.o by). The
 * loader hands both to the caller's accept check once the image is parsed,
 * so one parse serves the check and the load. */
#include <string.h>

#include "elf.h"
#include "fmt.h"

/* The contents of the first section called `name`; false if none. */
static bool find_section(const struct hr_elf *elf, const char *name, const uint8_t **data,
                         size_t *len)
{
    for (uint32_t i = 1; i < elf->shnum; i++) {
        struct hr_shdr sh;
        hr_elf_shdr(elf, i, &sh);
        const char *sname = hr_elf_str(elf, elf->shstrndx, sh.name);
        if (sh.type == HR_SHT_NOBITS || !sname || strcmp(sname, name) != 0)
            continue;
        *data = elf->img + sh.offset;
        *len = (size_t)sh.size;
        return true;
    }
    return false;
}

static uint32_t get32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void hr_elf_ident(const struct hr_elf *elf, struct hr_module_ident *id)
{
    const uint8_t *n;
    size_t len;
    memset(id, 0, sizeof *id);
    if (find_section(elf, HR_FWID_SECTION, &n, &len)) {
        id->fwid = n;
        id->fwid_len = len;
    }
    /* A note: namesz 4 ("GNU\0"), descsz, type 3 (NT_GNU_BUILD_ID), desc. */
    if (find_section(elf, ".note.gnu.build-id", &n, &len) && len >= 16 && get32(n) == 4 &&
        get32(n + 8) == 3 && memcmp(n + 12, "GNU", 4) == 0 && get32(n + 4) <= len - 16) {
        id->build_id = n + 16;
        id->build_id_len = get32(n + 4);
    }
}

enum hr_status hr_image_section(const void *image, size_t size, const char *name,
                                const uint8_t **data, size_t *len, struct hr_error *err)
{
    struct hr_elf elf;
    enum hr_status st = hr_elf_open_any(&elf, image, size, err);
    if (st != HR_OK)
        return st;
    if (find_section(&elf, name, data, len))
        return HR_OK;
    return hr_fail(err, HR_E_NOTFOUND, "the module has no section %s", name);
}
