/* A file standing for a flash partition on the simulated device.
 *
 * $HOTRELOAD_STORAGE_DIR/<name>.partition (default directory "."), sized for
 * two images of the module's max_module_size (the one size setting; a test
 * simulating a small flash overrides it with $HOTRELOAD_STORAGE_SIZE bytes).
 * A new file is all 0xFF, as erased flash. An existing file smaller than that
 * is grown, its two image slots moved to where the larger layout has them, so
 * its images stay; a larger one keeps its size (shrinking would lose them).
 *
 * Flash rules are enforced, not just imitated: erase works on 4 KiB blocks,
 * and a write that would turn a 0 bit back into 1 fails and says so on
 * stderr (it means the storage code wrote twice without an erase).
 *
 * Durability: the data is in the page cache as soon as pwrite returns, which
 * is all a SIGKILL test needs. Against an OS crash, erases are synced, and a
 * write into the first 256 bytes of an erase block -- where storage.c keeps
 * image headers and state marks -- is synced before (the body under it is on
 * disk first) and after. Body writes are not, so streaming stays fast.
 *
 * Test hook: HOTRELOAD_TEST_PAUSE_STORE=N makes the Nth write call of the
 * process (1-based) print "hotreload-test: paused in storage write" on
 * stderr and sleep 60 s before writing, so that a test can kill the process
 * in the middle of storing a module. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

#define ERASE_SIZE 4096u
#define HEAD_BYTES 256u

struct file_part {
    int fd;
    uint32_t size;
    const uint8_t *view; /* the whole file, read-only, shared with pwrite */
    char path[512];
};

static atomic_uint write_calls;

static int in_range(const struct file_part *p, uint32_t off, uint32_t len)
{
    return off <= p->size && len <= p->size - off;
}

static int fd_read(int fd, uint32_t off, void *buf, uint32_t len)
{
    for (uint32_t done = 0; done < len;) {
        ssize_t n = pread(fd, (uint8_t *)buf + done, len - done, (off_t)off + done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (uint32_t)n;
    }
    return 0;
}

static int fd_write(int fd, uint32_t off, const void *buf, uint32_t len)
{
    for (uint32_t done = 0; done < len;) {
        ssize_t n = pwrite(fd, (const uint8_t *)buf + done, len - done, (off_t)off + done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (uint32_t)n;
    }
    return 0;
}

static int part_read(void *ctx, uint32_t off, void *buf, uint32_t len)
{
    struct file_part *p = ctx;
    return in_range(p, off, len) ? fd_read(p->fd, off, buf, len) : -1;
}

static void test_pause(void)
{
    static long pause_at = -1;
    if (pause_at < 0) {
        const char *env = getenv("HOTRELOAD_TEST_PAUSE_STORE");
        pause_at = env && *env ? strtol(env, NULL, 10) : 0;
    }
    unsigned n = atomic_fetch_add(&write_calls, 1) + 1;
    if (pause_at > 0 && n == (unsigned long)pause_at) {
        fputs("hotreload-test: paused in storage write\n", stderr);
        fflush(stderr);
        sleep(60);
    }
}

static int part_write(void *ctx, uint32_t off, const void *buf, uint32_t len)
{
    struct file_part *p = ctx;
    test_pause();
    if (!in_range(p, off, len))
        return -1;
    /* Flash can only clear bits: check against what is there. */
    const uint8_t *src = buf;
    for (uint32_t i = 0; i < len; i++)
        if ((p->view[off + i] & src[i]) != src[i]) {
            fprintf(stderr, "hotreload: storage %s: write at 0x%x sets bits that are not "
                    "erased (0x%02x over 0x%02x): write without erase\n",
                    p->path, off + i, src[i], p->view[off + i]);
            return -1;
        }
    int head = off % ERASE_SIZE < HEAD_BYTES;
    if (head && fdatasync(p->fd) != 0)
        return -1;
    if (fd_write(p->fd, off, buf, len) != 0)
        return -1;
    return head ? fdatasync(p->fd) : 0;
}

static int part_erase(void *ctx, uint32_t off, uint32_t len)
{
    struct file_part *p = ctx;
    uint8_t ff[ERASE_SIZE];
    if (!in_range(p, off, len) || off % ERASE_SIZE || len % ERASE_SIZE)
        return -1;
    memset(ff, 0xff, sizeof ff);
    for (uint32_t done = 0; done < len; done += ERASE_SIZE)
        if (fd_write(p->fd, off + done, ff, ERASE_SIZE) != 0)
            return -1;
    return fdatasync(p->fd);
}

static const void *part_map(void *ctx, uint32_t off, uint32_t len)
{
    struct file_part *p = ctx;
    return in_range(p, off, len) ? p->view + off : NULL;
}

static void part_unmap(void *ctx, const void *view, uint32_t len)
{
    (void)ctx, (void)view, (void)len; /* the whole file stays mapped */
}

/* Where block `off` of a file of `size` bytes comes from in the file it grows
 * from: each image slot keeps its offset from the start of its slot. -1: none,
 * the block is erased. */
static long long grown_from(uint32_t off, uint32_t size, uint32_t from_size)
{
    uint32_t slot = hr_storage_slot_size(size, ERASE_SIZE);
    uint32_t from_slot = hr_storage_slot_size(from_size, ERASE_SIZE);
    uint32_t k = off / slot, rel = off % slot;
    return k < 2 && rel < from_slot ? (long long)k * from_slot + rel : -1;
}

/* A partition file of `size` bytes: all 0xFF, or the file `from` (fd, of
 * `from_size` bytes) grown. Written under a temporary name and renamed, so a
 * process killed meanwhile never leaves a half-made file behind. */
static int write_file(const char *path, uint32_t size, int from, uint32_t from_size)
{
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    uint8_t block[ERASE_SIZE];
    int ok = 1;
    for (uint32_t off = 0; ok && off < size; off += ERASE_SIZE) {
        long long src = from >= 0 ? grown_from(off, size, from_size) : -1;
        memset(block, 0xff, sizeof block);
        ok = (src < 0 || fd_read(from, (uint32_t)src, block, ERASE_SIZE) == 0) &&
             fd_write(fd, off, block, ERASE_SIZE) == 0;
    }
    ok = ok && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* The size a partition file should have: $HOTRELOAD_STORAGE_SIZE, else two
 * images of `image_max` bytes (0: the runtime's default limit, 128 KiB). */
static unsigned long long wanted_size(uint32_t image_max, const char *size_env)
{
    unsigned long long want = size_env && *size_env ? strtoull(size_env, NULL, 0)
                              : hr_storage_size_for(image_max ? image_max : 128 * 1024,
                                                    ERASE_SIZE);
    return (want + ERASE_SIZE - 1) / ERASE_SIZE * ERASE_SIZE;
}

/* Create the file, or grow one smaller than `want`; a larger one stays. */
static int make_room(const char *path, uint32_t want, const char *size_env)
{
    struct stat sb;
    if (stat(path, &sb) != 0)
        return write_file(path, want, -1, 0);
    uint32_t have = (uint32_t)(sb.st_size / ERASE_SIZE * ERASE_SIZE);
    if (sb.st_size > 0x7fff0000 || have >= want) {
        if (size_env && *size_env && have > want)
            fprintf(stderr, "hotreload: storage %s keeps its size of %u bytes, more than the "
                    "%u of HOTRELOAD_STORAGE_SIZE: shrinking it would lose its images; remove "
                    "the file to shrink it\n", path, (unsigned)have, (unsigned)want);
        return 0;
    }
    int from = open(path, O_RDONLY | O_CLOEXEC);
    int err = from < 0 || write_file(path, want, from, have);
    if (from >= 0)
        close(from);
    if (!err)
        fprintf(stderr, "hotreload: storage %s grown from %u to %u bytes (images of up to %u "
                "bytes); its stored images are kept\n", path, (unsigned)have, (unsigned)want,
                (unsigned)(hr_storage_slot_size(want, ERASE_SIZE) -
                           hr_storage_header_size(ERASE_SIZE)));
    return err ? -1 : 0;
}

int hr_posix_storage_open(const char *name, uint32_t image_max, struct hr_storage *out)
{
    const char *dir = getenv("HOTRELOAD_STORAGE_DIR");
    const char *size_env = getenv("HOTRELOAD_STORAGE_SIZE");
    unsigned long long want = wanted_size(image_max, size_env);
    if (!name || !*name || strchr(name, '/') || want == 0 || want > 0x7fff0000ull)
        return -1;
    struct file_part *p = calloc(1, sizeof *p);
    if (!p)
        return -1;
    snprintf(p->path, sizeof p->path, "%s/%s.partition", dir && *dir ? dir : ".", name);
    struct stat sb;
    if (make_room(p->path, (uint32_t)want, size_env) != 0) {
        fprintf(stderr, "hotreload: cannot create or grow storage %s to %llu bytes: %s\n",
                p->path, want, strerror(errno));
        free(p);
        return -1;
    }
    p->fd = open(p->path, O_RDWR | O_CLOEXEC);
    if (p->fd < 0 || fstat(p->fd, &sb) != 0 || sb.st_size < (off_t)ERASE_SIZE * 2 ||
        sb.st_size > 0x7fff0000) {
        fprintf(stderr, "hotreload: cannot open storage %s\n", p->path);
        if (p->fd >= 0)
            close(p->fd);
        free(p);
        return -1;
    }
    p->size = (uint32_t)sb.st_size / ERASE_SIZE * ERASE_SIZE;
    void *view = mmap(NULL, p->size, PROT_READ, MAP_SHARED, p->fd, 0);
    if (view == MAP_FAILED) {
        close(p->fd);
        free(p);
        return -1;
    }
    p->view = view;
    *out = (struct hr_storage){
        .ctx = p,
        .size = p->size,
        .erase_size = ERASE_SIZE,
        .read = part_read,
        .write = part_write,
        .erase = part_erase,
        .map = part_map,
        .unmap = part_unmap,
    };
    return 0;
}

/* Give back what hr_posix_storage_open took (tests; the device keeps its
 * storage open for its lifetime). */
void hr_posix_storage_close(struct hr_storage *dev)
{
    struct file_part *p = dev->ctx;
    if (!p)
        return;
    munmap((void *)p->view, p->size);
    close(p->fd);
    free(p);
    dev->ctx = NULL;
}
