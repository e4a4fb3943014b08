/* hotd build-id: the firmware's identity, which every module built for it
 * carries in its .hotreload.fwid section: the GNU build-id of its ELF file,
 * or for an ESP-IDF chip app (which links no build-id note) the SHA-256 of
 * the ELF file, which ESP-IDF stores in the app as app_elf_sha256. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../agent/runtime/sha256.h"
#include "hotd.h"
#include "options.h"

enum { OUT };
static const struct hotd_opt options[] = {
    [OUT] = {"out", 'o', "OUT", "write the raw bytes to OUT instead"},
    {0},
};

static const struct hotd_cmd command = {
    .name = "build-id",
    .max_operands = 1,
    .opts = options,
    .usage = "usage: hotd build-id FILE [-o OUT]\n"
             "\n"
             "Print the GNU build-id of FILE in hex, or with -o write its raw bytes to OUT\n"
             "(the contents of a module's .hotreload.fwid section). An ESP-IDF chip app has\n"
             "none: its identity is the SHA-256 of the ELF file (esp_app_get_elf_sha256).\n",
};

/* An ESP-IDF app: its description section (esp_app_desc). */
static bool is_esp_idf_app(Elf *elf)
{
    size_t shstrndx;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0)
        return false;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        const char *name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
        if (name && !strcmp(name, ".flash.appdesc"))
            return true;
    }
    return false;
}

/* What esp_app_get_elf_sha256() answers on the chip. */
static int elf_sha256(const char *path, unsigned char *id, size_t cap, size_t *len, char *msg,
                      size_t msgsize)
{
    char *data;
    size_t n;
    if (cap < 32 || hotd_read_file(path, &data, &n, msg, msgsize) != 0)
        return -1;
    hr_sha256(data, n, id);
    free(data);
    *len = 32;
    return 0;
}

int hotd_read_build_id(const char *path, unsigned char *id, size_t cap, size_t *len, char *msg,
                       size_t msgsize)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(msg, msgsize, "%s: %s", path, strerror(errno));
        return -1;
    }
    elf_version(EV_CURRENT);
    Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
    int rc = -1;
    snprintf(msg, msgsize, "%s: no GNU build-id note (link with -Wl,--build-id)", path);
    for (Elf_Scn *scn = NULL; elf && rc != 0 && (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        GElf_Nhdr nh;
        size_t off = 0, name_off, desc_off;
        while (d && (off = gelf_getnote(d, off, &nh, &name_off, &desc_off)) > 0) {
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                !memcmp((char *)d->d_buf + name_off, "GNU", 4) && nh.n_descsz <= cap) {
                memcpy(id, (char *)d->d_buf + desc_off, nh.n_descsz);
                *len = nh.n_descsz;
                rc = 0;
                break;
            }
        }
    }
    if (!elf)
        snprintf(msg, msgsize, "%s: not an ELF file", path);
    bool esp = rc != 0 && elf && is_esp_idf_app(elf);
    if (elf)
        elf_end(elf);
    close(fd);
    return esp ? elf_sha256(path, id, cap, len, msg, msgsize) : rc;
}

int hotd_image_fwid(const void *img, size_t len, char *hex, size_t hexsize)
{
    elf_version(EV_CURRENT);
    Elf *elf = elf_memory((char *)img, len);
    size_t shstrndx;
    int rc = -1;
    hex[0] = '\0';
    if (!elf || elf_getshdrstrndx(elf, &shstrndx) != 0) {
        if (elf)
            elf_end(elf);
        return -1;
    }
    for (Elf_Scn *scn = NULL; rc && (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        const char *name = gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
        Elf_Data *d = name && !strcmp(name, ".hotreload.fwid") ? elf_getdata(scn, NULL) : NULL;
        if (!d || d->d_size * 2 + 1 > hexsize)
            continue;
        for (size_t i = 0; i < d->d_size; i++)
            snprintf(hex + 2 * i, 3, "%02x", ((unsigned char *)d->d_buf)[i]);
        rc = 0;
    }
    elf_end(elf);
    return rc;
}

int cmd_build_id(int argc, char **argv)
{
    const char *out = NULL;
    struct hotd_args a = {.cmd = &command};
    for (int o; (o = hotd_next_option(&a, argc, argv)) != HOTD_ARGS_END;) {
        if (o != OUT)
            return hotd_args_exit(o);
        out = a.value;
    }
    if (a.noperands != 1)
        return hotd_usage_error(&command, "which FILE?");
    const char *in = a.operands[0];
    unsigned char id[64];
    size_t len;
    char msg[512];
    if (hotd_read_build_id(in, id, sizeof id, &len, msg, sizeof msg) != 0) {
        fprintf(stderr, "hotd build-id: %s\n", msg);
        return 1;
    }
    if (!out) {
        for (size_t i = 0; i < len; i++)
            printf("%02x", id[i]);
        printf("\n");
        return 0;
    }
    FILE *f = fopen(out, "wb");
    if (!f || fwrite(id, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "hotd build-id: %s: %s\n", out, strerror(errno));
        return 2;
    }
    return 0;
}
