/* hotd build-id: the GNU build-id of an ELF file (the firmware's identity,
 * which every module built for it carries in its .hotreload.fwid section). */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hotd.h"

static const char help[] =
    "usage: hotd build-id FILE [-o OUT]\n"
    "\n"
    "Print the GNU build-id of FILE in hex, or with -o write its raw bytes to OUT\n"
    "(the contents of a module's .hotreload.fwid section).\n";

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
    if (elf)
        elf_end(elf);
    close(fd);
    return rc;
}

int cmd_build_id(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(help, stdout);
            return 0;
        } else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            out = argv[++i];
        } else if (!in && argv[i][0] != '-') {
            in = argv[i];
        } else {
            fputs(help, stderr);
            return 2;
        }
    }
    if (!in) {
        fputs(help, stderr);
        return 2;
    }
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
