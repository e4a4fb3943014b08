/* Module images in a flash-like partition: two slots, headers written last,
 * states that only clear bits. See storage.h for the API.
 *
 * Layout. The partition is cut into two equal slots of `slot_size` bytes
 * (half the partition, rounded down to the erase size). A slot is a header
 * block of max(erase_size, 256) bytes, then the module bytes (the sizes are
 * port.h's hr_storage_*, which a port resizing a partition follows):
 *
 *   off  size  field
 *     0     4  magic "HRIM"
 *     4     2  format version (1)
 *     6     2  header size (HDR_FIELDS + 32)
 *     8     4  sequence number (grows with every stored image)
 *    12     4  module length
 *    16    32  SHA-256 of the module bytes
 *    48     4  firmware build-id length (<= HR_FWID_MAX)
 *    52    32  firmware build-id (unused bytes 0)
 *    84    32  SHA-256 of bytes 0..83: the header checksum
 *   128     4  TRIED mark      \  each a word of its own, 0xFFFFFFFF when
 *   144     4  CONFIRMED mark   > unset, programmed to 0 once (16 bytes apart,
 *   160     4  BAD mark        /  for flash with per-double-word ECC)
 *
 * Multi-byte fields are little-endian. The header is written in one call
 * after every module byte, so it exists only over a complete body; a torn
 * header fails its checksum. The state is read from the marks: BAD if the
 * BAD word has any bit cleared, else CONFIRMED if its word is 0, else TRIED
 * if its word has any bit cleared, else TRIAL. A mark interrupted halfway
 * therefore errs towards the safe side (tried, bad, not confirmed), and
 * marking never needs an erase.
 *
 * hr_store_open checks each header (magic, version, checksum, length fits
 * the slot) and the SHA-256 of each body that is not BAD, so a slot whose
 * bytes were damaged is HR_IMAGE_NONE from the start: it is neither loaded
 * nor kept in preference to a good one when the next write picks its slot.
 * hr_store_get checks the SHA-256 again when it hands the bytes out.
 *
 * Start-up sequence (hotreload.c, load_boot): img = hr_store_boot_image();
 * if img is TRIAL, hr_store_mark(TRIED) *before* loading it; load; the
 * application confirms (hr_store_mark(CONFIRMED)) once it trusts it. A device
 * that dies before that restarts with a TRIED newest image, which
 * hr_store_boot_image marks BAD, falling back to the other slot. */
#include <string.h>

#include "storage.h"

#define MAGIC 0x4d495248u /* "HRIM" little-endian */
#define VERSION 1
#define HDR_FIELDS 84
#define HDR_BYTES (HDR_FIELDS + 32)
#define MARK_TRIED 128
#define MARK_CONFIRMED 144
#define MARK_BAD 160
#define CHUNK 256

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t hdr_block(const struct hr_store *st)
{
    return hr_storage_header_size(st->dev.erase_size);
}

static uint32_t slot_off(const struct hr_store *st, uint32_t slot)
{
    return slot * st->slot_size;
}

static uint32_t body_off(const struct hr_store *st, uint32_t slot)
{
    return slot_off(st, slot) + hdr_block(st);
}

uint32_t hr_store_capacity(const struct hr_store *st)
{
    return st->slot_size > hdr_block(st) ? st->slot_size - hdr_block(st) : 0;
}

/* SHA-256 of `len` bytes at `off`, through the map when there is one. */
static int hash_range(struct hr_store *st, uint32_t off, uint32_t len, uint8_t out[32])
{
    struct hr_sha256 s;
    hr_sha256_init(&s);
    const void *view = st->dev.map ? st->dev.map(st->dev.ctx, off, len) : NULL;
    if (view) {
        hr_sha256_update(&s, view, len);
        if (st->dev.unmap)
            st->dev.unmap(st->dev.ctx, view, len);
    } else {
        uint8_t buf[CHUNK];
        for (uint32_t done = 0; done < len;) {
            uint32_t n = len - done < CHUNK ? len - done : CHUNK;
            if (st->dev.read(st->dev.ctx, off + done, buf, n) != 0)
                return -1;
            hr_sha256_update(&s, buf, n);
            done += n;
        }
    }
    hr_sha256_final(&s, out);
    return 0;
}

static enum hr_image_state decode_state(const uint8_t *hdr)
{
    if (get32(hdr + MARK_BAD) != 0xffffffffu)
        return HR_IMAGE_BAD;
    if (get32(hdr + MARK_CONFIRMED) == 0)
        return HR_IMAGE_CONFIRMED;
    if (get32(hdr + MARK_TRIED) != 0xffffffffu)
        return HR_IMAGE_TRIED;
    return HR_IMAGE_TRIAL;
}

/* Read one slot's header into st->img[slot]; -1 only on a device error. */
static int read_slot(struct hr_store *st, uint32_t slot)
{
    struct hr_image *img = &st->img[slot];
    uint8_t hdr[MARK_BAD + 4];
    uint8_t sum[32];
    memset(img, 0, sizeof *img);
    img->slot = slot;
    img->state = HR_IMAGE_NONE;
    if (st->dev.read(st->dev.ctx, slot_off(st, slot), hdr, sizeof hdr) != 0)
        return -1;
    if (get32(hdr) != MAGIC || (hdr[4] | hdr[5] << 8) != VERSION ||
        (hdr[6] | hdr[7] << 8) != HDR_BYTES)
        return 0;
    hr_sha256(hdr, HDR_FIELDS, sum);
    if (!hr_memeq_ct(sum, hdr + HDR_FIELDS, 32))
        return 0;
    uint32_t length = get32(hdr + 12), fwid_len = get32(hdr + 48);
    if (length == 0 || length > hr_store_capacity(st) || fwid_len > HR_FWID_MAX)
        return 0;
    /* The header is genuine: its sequence number counts even if the body
     * turns out damaged, so the next image is numbered above it. */
    img->seq = get32(hdr + 8);
    img->length = length;
    memcpy(img->sha256, hdr + 16, 32);
    img->fwid_len = fwid_len;
    memcpy(img->fwid, hdr + 52, fwid_len);
    enum hr_image_state state = decode_state(hdr);
    if (state != HR_IMAGE_BAD) {
        if (hash_range(st, body_off(st, slot), length, sum) != 0)
            return -1;
        if (!hr_memeq_ct(sum, img->sha256, 32))
            return 0; /* a damaged body: never loaded, overwritten next */
    }
    img->state = state;
    return 0;
}

int hr_store_open(struct hr_store *st, const struct hr_storage *dev)
{
    memset(st, 0, sizeof *st);
    st->dev = *dev;
    if (!dev->read || !dev->write || !dev->erase || !dev->erase_size ||
        (dev->erase_size & (dev->erase_size - 1)))
        return -1;
    st->slot_size = hr_storage_slot_size(dev->size, dev->erase_size);
    if (hr_store_capacity(st) == 0)
        return -1;
    if (read_slot(st, 0) != 0 || read_slot(st, 1) != 0)
        return -1;
    return 0;
}

static bool usable(const struct hr_image *img)
{
    return img->state != HR_IMAGE_NONE && img->state != HR_IMAGE_BAD;
}

/* Index of the newest usable image, -1 if none. */
static int newest(const struct hr_store *st)
{
    int n = -1;
    for (int i = 0; i < 2; i++)
        if (usable(&st->img[i]) && (n < 0 || st->img[i].seq > st->img[n].seq))
            n = i;
    return n;
}

const struct hr_image *hr_store_newest(const struct hr_store *st)
{
    int n = newest(st);
    return n < 0 ? NULL : &st->img[n];
}

/* The slot hr_store_boot_image would choose now, without marking: a TRIED
 * newest image gives way to a usable image in the other slot. -1: none. */
static int boot_slot(const struct hr_store *st)
{
    int n = newest(st);
    if (n >= 0 && st->img[n].state == HR_IMAGE_TRIED && usable(&st->img[1 - n]))
        return 1 - n;
    return n;
}

static int mark_word(struct hr_store *st, uint32_t slot, uint32_t at)
{
    static const uint8_t zero[4];
    return st->dev.write(st->dev.ctx, slot_off(st, slot) + at, zero, sizeof zero);
}

int hr_store_mark(struct hr_store *st, const struct hr_image *img, enum hr_image_state state)
{
    if (!img || img->slot > 1)
        return -1;
    struct hr_image *cur = &st->img[img->slot];
    if (cur->state == HR_IMAGE_NONE || cur->seq != img->seq)
        return -1;
    if (cur->state == state)
        return 0;
    switch (state) {
    case HR_IMAGE_BAD:
        /* Never loaded again, even if the mark does not reach the device. */
        cur->state = HR_IMAGE_BAD;
        return mark_word(st, cur->slot, MARK_BAD);
    case HR_IMAGE_TRIED:
        if (cur->state == HR_IMAGE_CONFIRMED)
            return 0; /* already past that */
        if (cur->state != HR_IMAGE_TRIAL || mark_word(st, cur->slot, MARK_TRIED) != 0)
            return -1;
        cur->state = HR_IMAGE_TRIED;
        return 0;
    case HR_IMAGE_CONFIRMED:
        if (cur->state == HR_IMAGE_BAD || mark_word(st, cur->slot, MARK_CONFIRMED) != 0)
            return -1;
        cur->state = HR_IMAGE_CONFIRMED;
        return 0;
    default:
        return -1; /* back to TRIAL or NONE would need an erase */
    }
}

const struct hr_image *hr_store_boot_image(struct hr_store *st)
{
    int n = newest(st);
    if (n < 0)
        return NULL;
    if (st->img[n].state == HR_IMAGE_TRIED) {
        /* Loaded at an earlier start and never confirmed: the device did not
         * survive it. Never again; fall back to the other slot. */
        hr_store_mark(st, &st->img[n], HR_IMAGE_BAD);
        n = newest(st);
        if (n < 0)
            return NULL;
    }
    return &st->img[n];
}

int hr_store_get(struct hr_store *st, const struct hr_image *img, const struct hr_port *mem,
                 const void **bytes, void **buf)
{
    *bytes = NULL;
    *buf = NULL;
    if (!img || img->slot > 1 || img->length == 0 || img->length > hr_store_capacity(st))
        return -1;
    uint32_t off = body_off(st, img->slot), len = img->length;
    uint8_t sum[32];
    /* In place when the device maps (no RAM copy); a map that fails (out of
     * MMU pages...) falls back to reading. */
    const void *view = st->dev.map ? st->dev.map(st->dev.ctx, off, len) : NULL;
    if (view) {
        hr_sha256(view, len, sum);
        if (hr_memeq_ct(sum, img->sha256, 32)) {
            *bytes = view;
            return 0;
        }
        if (st->dev.unmap)
            st->dev.unmap(st->dev.ctx, view, len);
        return -1;
    }
    void *copy = mem->alloc(mem->ctx, len);
    if (!copy)
        return -1;
    if (st->dev.read(st->dev.ctx, off, copy, len) != 0 ||
        (hr_sha256(copy, len, sum), !hr_memeq_ct(sum, img->sha256, 32))) {
        mem->free(mem->ctx, copy);
        return -1;
    }
    *bytes = copy;
    *buf = copy;
    return 0;
}

void hr_store_put(struct hr_store *st, const struct hr_image *img, const void *bytes, void *buf,
                  const struct hr_port *mem)
{
    if (buf)
        mem->free(mem->ctx, buf);
    else if (bytes && st->dev.unmap)
        st->dev.unmap(st->dev.ctx, bytes, img->length);
}

/* The slot a new image must not be written over: the newest CONFIRMED
 * image -- the last one known good, whatever was stored or tried after it
 * -- else the image a start would load. -1: neither exists. Anything else
 * (a TRIAL never started, a TRIED one running unconfirmed, a BAD one) may
 * go: the running module never reads its slot again after loading. */
static int keep_slot(const struct hr_store *st)
{
    int c = -1;
    for (int i = 0; i < 2; i++)
        if (st->img[i].state == HR_IMAGE_CONFIRMED && (c < 0 || st->img[i].seq > st->img[c].seq))
            c = i;
    return c >= 0 ? c : boot_slot(st);
}

int hr_store_reserve(struct hr_store *st, uint32_t length, struct hr_store_writer *w)
{
    memset(w, 0, sizeof *w);
    if (length == 0 || length > hr_store_capacity(st))
        return -1;
    int keep = keep_slot(st);
    uint32_t slot = keep < 0 ? (st->img[0].state == HR_IMAGE_NONE ? 0 : 1) : 1 - (uint32_t)keep;
    /* Forget the slot's image before touching its bytes: from now on no
     * mark is written to it (hr_store_mark refuses an image that is NONE). */
    st->img[slot].state = HR_IMAGE_NONE;
    w->st = st;
    w->slot = slot;
    w->length = length;
    hr_sha256_init(&w->sha);
    return 0;
}

int hr_store_erase(struct hr_store_writer *w)
{
    static const uint8_t zero[4];
    struct hr_store *st = w->st;
    if (!st)
        return -1;
    /* First the magic is programmed to zero (a write only clears bits), so
     * an erase cut short -- whichever bytes it reached, the marks included
     * -- never leaves a valid header that brings back an image already
     * tried, bad or replaced. The header block is erased before the body
     * for the same reason. */
    uint32_t hb = hdr_block(st), es = st->dev.erase_size;
    uint32_t body = (w->length + es - 1) & ~(es - 1);
    if (st->dev.write(st->dev.ctx, slot_off(st, w->slot), zero, sizeof zero) != 0 ||
        st->dev.erase(st->dev.ctx, slot_off(st, w->slot), hb) != 0 ||
        st->dev.erase(st->dev.ctx, body_off(st, w->slot), body) != 0) {
        w->st = NULL;
        return -1;
    }
    return 0;
}

int hr_store_begin(struct hr_store *st, uint32_t length, struct hr_store_writer *w)
{
    return hr_store_reserve(st, length, w) != 0 ? -1 : hr_store_erase(w);
}

int hr_store_write(struct hr_store_writer *w, const void *data, uint32_t len)
{
    if (!w->st || w->finished || len > w->length - w->written)
        return -1;
    if (len == 0)
        return 0;
    struct hr_store *st = w->st;
    if (st->dev.write(st->dev.ctx, body_off(st, w->slot) + w->written, data, len) != 0)
        return -1;
    hr_sha256_update(&w->sha, data, len);
    w->written += len;
    return 0;
}

int hr_store_finish(struct hr_store_writer *w, uint8_t sha256[32])
{
    if (!w->st || w->written != w->length)
        return -1;
    if (!w->finished) {
        hr_sha256_final(&w->sha, w->digest);
        w->finished = true;
    }
    if (sha256)
        memcpy(sha256, w->digest, 32);
    return 0;
}

int hr_store_staged(struct hr_store_writer *w, const struct hr_port *mem, struct hr_image *img,
                    const void **bytes, void **buf)
{
    *bytes = NULL;
    *buf = NULL;
    if (!w->st || !w->finished)
        return -1;
    memset(img, 0, sizeof *img);
    img->slot = w->slot;
    img->length = w->length;
    memcpy(img->sha256, w->digest, 32);
    if (hr_store_get(w->st, img, mem, bytes, buf) != 0)
        return -1;
    w->verified = true;
    return 0;
}

int hr_store_seal(struct hr_store_writer *w, const uint8_t *fwid, uint32_t fwid_len, bool tried,
                  struct hr_image *img)
{
    struct hr_store *st = w->st;
    if (!st || !w->finished || fwid_len > HR_FWID_MAX || (fwid_len && !fwid))
        return -1;
    /* The body is written: make sure it reads back as hashed before a
     * header vouches for it (a flash write can fail silently). */
    uint8_t sum[32];
    if (!w->verified && (hash_range(st, body_off(st, w->slot), w->length, sum) != 0 ||
                         !hr_memeq_ct(sum, w->digest, 32)))
        return -1;
    /* Above every header seen, BAD ones and the one this slot held too. */
    uint32_t seq = (st->img[0].seq > st->img[1].seq ? st->img[0].seq : st->img[1].seq) + 1;
    uint8_t hdr[HDR_BYTES];
    memset(hdr, 0, sizeof hdr);
    put32(hdr, MAGIC);
    hdr[4] = VERSION;
    hdr[6] = HDR_BYTES;
    put32(hdr + 8, seq);
    put32(hdr + 12, w->length);
    memcpy(hdr + 16, w->digest, 32);
    put32(hdr + 48, fwid_len);
    if (fwid_len)
        memcpy(hdr + 52, fwid, fwid_len);
    hr_sha256(hdr, HDR_FIELDS, hdr + HDR_FIELDS);
    if (st->dev.write(st->dev.ctx, slot_off(st, w->slot), hdr, sizeof hdr) != 0)
        return -1;
    memset(img, 0, sizeof *img);
    img->slot = w->slot;
    img->seq = seq;
    img->length = w->length;
    memcpy(img->sha256, w->digest, 32);
    if (fwid_len)
        memcpy(img->fwid, fwid, fwid_len);
    img->fwid_len = fwid_len;
    img->state = HR_IMAGE_TRIAL;
    /* A failed mark leaves a TRIAL image: still committed. */
    if (tried && mark_word(st, w->slot, MARK_TRIED) == 0)
        img->state = HR_IMAGE_TRIED;
    return 0;
}

void hr_store_adopt(struct hr_store_writer *w, const struct hr_image *img)
{
    w->st->img[img->slot] = *img;
    w->st = NULL;
}

int hr_store_commit(struct hr_store_writer *w, const uint8_t *fwid, uint32_t fwid_len)
{
    struct hr_image img;
    if (hr_store_seal(w, fwid, fwid_len, false, &img) != 0)
        return -1;
    hr_store_adopt(w, &img);
    return 0;
}

void hr_store_abort(struct hr_store_writer *w)
{
    /* The slot's header was never written: nothing on the device refers to
     * the staged bytes, and the next begin erases them. */
    w->st = NULL;
}
