/* Module storage (agent/runtime/storage.c) on an in-memory flash device
 * that enforces flash rules (a write may only clear bits) and injects
 * faults: the Nth write or erase fails, or the power goes after K bytes of
 * writes and erases (everything later is silently lost, as a real cut). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "storage.h"

#define PART_SIZE (64u * 1024u)
#define ERASE 4096u

int failures;

struct memdev {
    uint8_t bytes[PART_SIZE];
    long budget;      /* bytes of writes+erases still applied; -1: no cut */
    long used;        /* bytes of writes+erases so far */
    int writes, erases, fail_write, fail_erase;
    int violations;
    int backward;     /* erases run from the end of their range, so a cut can
                         leave a header intact and the marks after it erased */
    long ends[64];    /* `used` at the end of each operation */
    int nends;
};

static void op_end(struct memdev *d)
{
    if (d->nends < 64)
        d->ends[d->nends++] = d->used;
}

static int md_read(void *ctx, uint32_t off, void *buf, uint32_t len)
{
    struct memdev *d = ctx;
    if (off > PART_SIZE || len > PART_SIZE - off)
        return -1;
    memcpy(buf, d->bytes + off, len);
    return 0;
}

static int md_write(void *ctx, uint32_t off, const void *buf, uint32_t len)
{
    struct memdev *d = ctx;
    const uint8_t *src = buf;
    if (off > PART_SIZE || len > PART_SIZE - off || ++d->writes == d->fail_write)
        return -1;
    for (uint32_t i = 0; i < len; i++, d->used++) {
        if (d->budget >= 0 && d->used >= d->budget)
            continue; /* the power is gone */
        if ((d->bytes[off + i] & src[i]) != src[i])
            d->violations++;
        d->bytes[off + i] &= src[i];
    }
    op_end(d);
    return 0;
}

static int md_erase(void *ctx, uint32_t off, uint32_t len)
{
    struct memdev *d = ctx;
    if (off % ERASE || len % ERASE || off > PART_SIZE || len > PART_SIZE - off ||
        ++d->erases == d->fail_erase)
        return -1;
    for (uint32_t i = 0; i < len; i++, d->used++)
        if (d->budget < 0 || d->used < d->budget)
            d->bytes[off + (d->backward ? len - 1 - i : i)] = 0xff;
    op_end(d);
    return 0;
}

static const void *md_map(void *ctx, uint32_t off, uint32_t len)
{
    struct memdev *d = ctx;
    return off <= PART_SIZE && len <= PART_SIZE - off ? d->bytes + off : NULL;
}

static struct hr_storage dev_of(struct memdev *d, int mappable)
{
    struct hr_storage s = {d, PART_SIZE, ERASE, md_read, md_write, md_erase, NULL, NULL};
    if (mappable)
        s.map = md_map;
    return s;
}

static struct memdev *new_dev(void)
{
    struct memdev *d = malloc(sizeof *d);
    memset(d->bytes, 0xff, sizeof d->bytes);
    d->budget = -1;
    d->used = d->writes = d->erases = d->fail_write = d->fail_erase = d->violations = 0;
    d->backward = d->nends = 0;
    return d;
}

static void *t_alloc(void *ctx, size_t n) { (void)ctx; return malloc(n); }
static void t_free(void *ctx, void *p) { (void)ctx; free(p); }
static const struct hr_port port = {NULL, t_alloc, t_free, NULL, NULL, NULL, 0};

/* An image: `n` bytes derived from `tag`. */
static uint8_t *image(int tag, uint32_t n)
{
    uint8_t *p = malloc(n);
    uint32_t x = 2463534242u * (uint32_t)(tag + 1);
    for (uint32_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        p[i] = (uint8_t)x;
    }
    return p;
}

/* Store `n` bytes in pieces of 1000, as a transport would stream them. */
static int store(struct hr_store *st, const uint8_t *bytes, uint32_t n)
{
    struct hr_store_writer w;
    static const uint8_t fwid[] = {1, 2, 3, 4, 5};
    uint8_t sha[32];
    if (hr_store_begin(st, n, &w) != 0)
        return -1;
    for (uint32_t done = 0; done < n; done += 1000)
        if (hr_store_write(&w, bytes + done, n - done < 1000 ? n - done : 1000) != 0) {
            hr_store_abort(&w);
            return -1;
        }
    if (hr_store_finish(&w, sha) != 0 || hr_store_commit(&w, fwid, sizeof fwid) != 0) {
        hr_store_abort(&w);
        return -1;
    }
    return 0;
}

/* The image's bytes equal `want` (through hr_store_get). */
static int holds(struct hr_store *st, const struct hr_image *img, const uint8_t *want,
                 uint32_t n)
{
    const void *bytes;
    void *buf;
    if (!img || img->length != n || hr_store_get(st, img, &port, &bytes, &buf) != 0)
        return 0;
    int same = memcmp(bytes, want, n) == 0;
    hr_store_put(st, img, bytes, buf, &port);
    return same;
}

static void reopen(struct hr_store *st, struct memdev *d, int mappable)
{
    struct hr_storage s = dev_of(d, mappable);
    CHECK(hr_store_open(st, &s) == 0);
}

static void test_basic(void)
{
    struct memdev *d = new_dev();
    struct hr_store st;
    uint8_t *a = image(1, 5000), *b = image(2, 7000), *c = image(3, 100);
    reopen(&st, d, 1);
    CHECK(hr_store_boot_image(&st) == NULL && hr_store_newest(&st) == NULL);
    CHECK(hr_store_capacity(&st) == PART_SIZE / 2 - ERASE);
    CHECK(store(&st, a, 5000) == 0);
    for (int mappable = 0; mappable < 2; mappable++) {
        reopen(&st, d, mappable);
        const struct hr_image *img = hr_store_boot_image(&st);
        CHECK(img && img->state == HR_IMAGE_TRIAL && img->fwid_len == 5 && img->fwid[4] == 5);
        CHECK(holds(&st, img, a, 5000));
    }
    uint32_t slot_a = hr_store_newest(&st)->slot, seq_a = hr_store_newest(&st)->seq;
    /* Two stores alternate slots; the newer one wins. */
    CHECK(store(&st, b, 7000) == 0);
    reopen(&st, d, 1);
    const struct hr_image *img = hr_store_boot_image(&st);
    CHECK(img && img->slot != slot_a && img->seq > seq_a && holds(&st, img, b, 7000));
    CHECK(store(&st, c, 100) == 0);
    reopen(&st, d, 0);
    img = hr_store_boot_image(&st);
    CHECK(img && img->slot == slot_a && holds(&st, img, c, 100));
    CHECK(holds(&st, &st.img[1 - slot_a], b, 7000));
    CHECK(d->violations == 0);
    free(a), free(b), free(c), free(d);
}

/* What a power-cut case starts from and what is cut. */
struct cut_case {
    const char *name;
    int older;     /* an older image in the other slot */
    int confirmed; /* the previous image `a` is CONFIRMED (else TRIAL, never started) */
    int bad_newer; /* after `a`: an image stored, started, never confirmed: BAD,
                      and newer than `a` (the slot the store goes over) */
    int marks;     /* the cut sequence goes on: the new image marked TRIED, then
                      CONFIRMED, as a start that confirms it does */
    int backward;  /* erases run backwards (see struct memdev) */
};

/* Store `b` (and with `marks`, start and confirm it); the same on a dry run
 * and under a cut. */
static void cut_sequence(struct hr_store *st, const struct cut_case *cc, const uint8_t *b,
                         uint32_t nb)
{
    if (store(st, b, nb) != 0 || !cc->marks)
        return;
    const struct hr_image *img = hr_store_newest(st);
    hr_store_mark(st, img, HR_IMAGE_TRIED);
    hr_store_mark(st, img, HR_IMAGE_CONFIRMED);
}

/* Cut the power after `cut` bytes of the sequence over a device whose boot
 * image is `a`: the next start loads `a` or `b`, whole, never the bad image;
 * `b` only once its header is complete, confirmed once its mark is; and a
 * CONFIRMED `a` is still intact in its slot whatever happened. */
static void cut_once(const struct memdev *base, const struct cut_case *cc, long cut,
                     long hdr_done, long total, const uint8_t *a, uint32_t na, const uint8_t *b,
                     uint32_t nb)
{
    struct memdev *d = malloc(sizeof *d);
    memcpy(d, base, sizeof *d);
    struct hr_store st;
    reopen(&st, d, 1);
    uint32_t slot_a = hr_store_boot_image(&st)->slot;
    d->budget = cut;
    d->used = 0;
    cut_sequence(&st, cc, b, nb); /* may "succeed": the device lies after a cut */
    d->budget = -1;
    reopen(&st, d, cut % 2);
    const struct hr_image *img = hr_store_boot_image(&st);
    int is_a = holds(&st, img, a, na), is_b = holds(&st, img, b, nb);
    if (!(is_a || (is_b && cut >= hdr_done)) || (cut >= total && !is_b)) {
        fprintf(stderr, "%s: power cut after %ld of %ld bytes: the start loads %s\n", cc->name,
                cut, total, is_a ? "the old image too early" : is_b ? "a torn new image"
                                                                      : "neither image");
        failures++;
    }
    if (cc->marks && cut >= total)
        CHECK(img && img->state == HR_IMAGE_CONFIRMED);
    if (cc->confirmed)
        CHECK(st.img[slot_a].state == HR_IMAGE_CONFIRMED && holds(&st, &st.img[slot_a], a, na));
    /* Whatever the other slot claims to hold is whole. */
    const struct hr_image *other = img ? &st.img[1 - img->slot] : NULL;
    if (other && other->state != HR_IMAGE_NONE && other->state != HR_IMAGE_BAD)
        CHECK(holds(&st, other, b, nb) || holds(&st, other, a, na) || other->seq < img->seq);
    CHECK(d->violations == 0);
    free(d);
}

/* The device before the cut sequence: `a` is what a start loads. */
static void cut_setup(struct memdev *base, const struct cut_case *cc, const uint8_t *a,
                      uint32_t na)
{
    struct hr_store st;
    uint8_t *x = image(9, 3000), *y = image(12, 2000);
    reopen(&st, base, 1);
    if (cc->older)
        CHECK(store(&st, x, 3000) == 0);
    CHECK(store(&st, a, na) == 0);
    if (cc->confirmed) {
        CHECK(hr_store_mark(&st, hr_store_newest(&st), HR_IMAGE_TRIED) == 0);
        CHECK(hr_store_mark(&st, hr_store_newest(&st), HR_IMAGE_CONFIRMED) == 0);
    }
    if (cc->bad_newer) {
        CHECK(store(&st, y, 2000) == 0);
        CHECK(hr_store_mark(&st, hr_store_newest(&st), HR_IMAGE_TRIED) == 0);
        reopen(&st, base, 1); /* the device died with it: the start marks it BAD */
        CHECK(holds(&st, hr_store_boot_image(&st), a, na));
    }
    base->backward = cc->backward;
    free(x), free(y);
}

static void test_power_cuts(const struct cut_case *cc)
{
    struct memdev *base = new_dev();
    struct hr_store st;
    uint8_t *a = image(10, 9000), *b = image(11, 12345);
    cut_setup(base, cc, a, 9000);
    /* A dry run to learn where the sequence's operations end. */
    struct memdev *dry = malloc(sizeof *dry);
    memcpy(dry, base, sizeof *dry);
    dry->used = dry->nends = 0;
    reopen(&st, dry, 1);
    CHECK(store(&st, b, 12345) == 0);
    long hdr_done = dry->used;
    int hdr_op = dry->nends - 1;
    if (cc->marks) {
        CHECK(hr_store_mark(&st, hr_store_newest(&st), HR_IMAGE_TRIED) == 0);
        CHECK(hr_store_mark(&st, hr_store_newest(&st), HR_IMAGE_CONFIRMED) == 0);
    }
    long total = dry->used;
    int cuts = 0;
    for (int i = 0; i < dry->nends; i++, cuts += 2) {
        cut_once(base, cc, dry->ends[i], hdr_done, total, a, 9000, b, 12345);
        cut_once(base, cc, dry->ends[i] - 1, hdr_done, total, a, 9000, b, 12345);
    }
    srand(1234 + cc->older + 2 * cc->confirmed + 4 * cc->marks + 8 * cc->backward);
    for (int i = 0; i < 150; i++, cuts++)
        cut_once(base, cc, rand() % total, hdr_done, total, a, 9000, b, 12345);
    /* Every byte of the header write and of the marks after it. */
    for (long k = dry->ends[hdr_op - 1]; k <= total; k++, cuts++)
        cut_once(base, cc, k, hdr_done, total, a, 9000, b, 12345);
    /* The first operations (the header block made invalid, then erased):
     * every byte near either end of the erase, where the magic and the
     * marks are, and a sample of the rest. */
    for (long k = 0; k <= dry->ends[1]; cuts++) {
        cut_once(base, cc, k, hdr_done, total, a, 9000, b, 12345);
        k += k < 300 || labs(dry->ends[0] - k) < 300 || dry->ends[1] - k < 300 ? 1 : 37;
    }
    printf("power cuts, %s: %d cuts over %ld bytes, %d operations\n", cc->name, cuts, total,
           dry->nends);
    free(a), free(b), free(base), free(dry);
}

/* A failing write or erase: the store fails, the old image stays. */
static void test_faults(void)
{
    uint8_t *a = image(20, 5000), *b = image(21, 9000);
    for (int kind = 0; kind < 2; kind++)
        for (int n = 1; n <= (kind ? 2 : 10); n++) {
            struct memdev *d = new_dev();
            struct hr_store st;
            reopen(&st, d, 1);
            CHECK(store(&st, a, 5000) == 0);
            d->writes = d->erases = 0;
            if (kind)
                d->fail_erase = n;
            else
                d->fail_write = n;
            CHECK(store(&st, b, 9000) != 0);
            reopen(&st, d, 1);
            CHECK(holds(&st, hr_store_boot_image(&st), a, 5000));
            free(d);
        }
    free(a), free(b);
}

/* TRIAL -> TRIED -> a start without confirming -> BAD, and the fallback to
 * the previous confirmed image; confirming keeps an image. */
static void test_confirm(void)
{
    struct memdev *d = new_dev();
    struct hr_store st;
    uint8_t *a = image(30, 4000), *b = image(31, 6000), *c = image(32, 500);
    reopen(&st, d, 1);
    CHECK(store(&st, a, 4000) == 0);
    const struct hr_image *img = hr_store_boot_image(&st);
    CHECK(hr_store_mark(&st, img, HR_IMAGE_TRIED) == 0);
    CHECK(hr_store_mark(&st, img, HR_IMAGE_CONFIRMED) == 0);
    CHECK(hr_store_mark(&st, img, HR_IMAGE_TRIAL) != 0);
    CHECK(store(&st, b, 6000) == 0);
    reopen(&st, d, 1);
    img = hr_store_boot_image(&st);
    CHECK(img && img->state == HR_IMAGE_TRIAL && holds(&st, img, b, 6000));
    uint32_t slot_b = img->slot;
    CHECK(hr_store_mark(&st, img, HR_IMAGE_TRIED) == 0); /* loaded, then the device dies */
    reopen(&st, d, 1);
    img = hr_store_boot_image(&st);
    CHECK(img && img->state == HR_IMAGE_CONFIRMED && holds(&st, img, a, 4000));
    CHECK(st.img[slot_b].state == HR_IMAGE_BAD);
    CHECK(hr_store_mark(&st, &st.img[slot_b], HR_IMAGE_CONFIRMED) != 0);
    reopen(&st, d, 1); /* BAD persists; newest skips it */
    CHECK(st.img[slot_b].state == HR_IMAGE_BAD && hr_store_newest(&st)->slot != slot_b);
    CHECK(hr_store_boot_image(&st)->slot != slot_b);
    /* The next store goes over the bad one and keeps the confirmed image. */
    CHECK(store(&st, c, 500) == 0);
    CHECK(st.img[1 - slot_b].state == HR_IMAGE_CONFIRMED);
    reopen(&st, d, 1);
    img = hr_store_boot_image(&st);
    CHECK(img && img->slot == slot_b && holds(&st, img, c, 500));
    hr_store_mark(&st, img, HR_IMAGE_TRIED);
    hr_store_mark(&st, img, HR_IMAGE_CONFIRMED);
    reopen(&st, d, 1);
    img = hr_store_boot_image(&st);
    CHECK(img && img->state == HR_IMAGE_CONFIRMED && holds(&st, img, c, 500));
    /* A TRIED image that is still running: a new store keeps the image a
     * start would load (the confirmed one), not the tried one. */
    CHECK(store(&st, a, 4000) == 0);
    img = hr_store_newest(&st);
    hr_store_mark(&st, img, HR_IMAGE_TRIED);
    uint32_t tried = img->slot;
    CHECK(store(&st, b, 6000) == 0);
    CHECK(hr_store_newest(&st)->slot == tried);
    /* Two stores that are never started over a confirmed image: the second
     * goes over the first (TRIAL), never over the confirmed one. */
    struct memdev *e = new_dev();
    reopen(&st, e, 1);
    CHECK(store(&st, a, 4000) == 0);
    CHECK(hr_store_mark(&st, hr_store_newest(&st), HR_IMAGE_TRIED) == 0);
    CHECK(hr_store_mark(&st, hr_store_newest(&st), HR_IMAGE_CONFIRMED) == 0);
    uint32_t good = hr_store_newest(&st)->slot;
    CHECK(store(&st, b, 6000) == 0 && store(&st, c, 500) == 0);
    CHECK(st.img[good].state == HR_IMAGE_CONFIRMED && holds(&st, &st.img[good], a, 4000));
    reopen(&st, e, 0);
    img = hr_store_boot_image(&st); /* the newest, c, is started... */
    CHECK(img && holds(&st, img, c, 500) && hr_store_mark(&st, img, HR_IMAGE_TRIED) == 0);
    reopen(&st, e, 1); /* ...and the device dies with it: back to a */
    CHECK(holds(&st, hr_store_boot_image(&st), a, 4000));
    CHECK(d->violations == 0 && e->violations == 0);
    free(e);
    free(a), free(b), free(c), free(d);
}

static void test_corrupt_and_full(void)
{
    struct memdev *d = new_dev();
    struct hr_store st;
    struct hr_store_writer w;
    uint8_t *a = image(40, 3000), *b = image(41, 3000);
    reopen(&st, d, 1);
    CHECK(store(&st, a, 3000) == 0);
    CHECK(store(&st, b, 3000) == 0);
    uint32_t slot_b = hr_store_newest(&st)->slot;
    d->bytes[slot_b * (PART_SIZE / 2) + ERASE + 1234] ^= 0x10; /* a body bit */
    for (int mappable = 0; mappable < 2; mappable++) {
        CHECK(holds(&st, &st.img[slot_b], b, 3000) == 0); /* get re-checks */
        reopen(&st, d, mappable);
        CHECK(st.img[slot_b].state == HR_IMAGE_NONE);
        CHECK(holds(&st, hr_store_boot_image(&st), a, 3000));
    }
    /* A header byte: the header checksum catches it. */
    d->bytes[(1 - slot_b) * (PART_SIZE / 2) + 13] ^= 1;
    reopen(&st, d, 1);
    CHECK(hr_store_boot_image(&st) == NULL);
    /* Full: one byte over the capacity is refused before anything is erased. */
    uint32_t cap = hr_store_capacity(&st);
    d->erases = 0;
    CHECK(hr_store_begin(&st, cap + 1, &w) != 0 && d->erases == 0);
    CHECK(hr_store_begin(&st, 0, &w) != 0);
    uint8_t *big = image(42, cap);
    CHECK(store(&st, big, cap) == 0);
    reopen(&st, d, 0);
    CHECK(holds(&st, hr_store_boot_image(&st), big, cap));
    /* Short or long streams are refused. */
    CHECK(hr_store_begin(&st, 100, &w) == 0);
    CHECK(hr_store_write(&w, a, 60) == 0 && hr_store_write(&w, a, 60) != 0);
    CHECK(hr_store_finish(&w, NULL) != 0 && hr_store_commit(&w, NULL, 0) != 0);
    hr_store_abort(&w);
    reopen(&st, d, 1);
    CHECK(holds(&st, hr_store_boot_image(&st), big, cap));
    CHECK(d->violations == 0);
    free(a), free(b), free(big), free(d);
}

int main(void)
{
    test_basic();
    static const struct cut_case cuts[] = {
        {"trial image", 0, 0, 0, 0, 0},
        {"older image in the other slot", 1, 0, 0, 0, 0},
        {"confirmed image", 0, 1, 0, 0, 0},
        {"confirmed image, then start and confirm", 1, 1, 0, 1, 0},
        {"confirmed image, a newer bad one overwritten", 0, 1, 1, 1, 0},
        {"confirmed image, a newer bad one, backward erases", 0, 1, 1, 1, 1},
        {"trial image, backward erases", 1, 0, 0, 1, 1},
    };
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
        test_power_cuts(&cuts[i]);
    test_faults();
    test_confirm();
    test_corrupt_and_full();
    if (failures) {
        fprintf(stderr, "storage_test: %d failures\n", failures);
        return 1;
    }
    printf("storage_test: ok\n");
    return 0;
}
