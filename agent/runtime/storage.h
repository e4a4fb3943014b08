/* Module images in storage: two slots per partition, each a header plus the
 * module's ELF bytes. A write goes to the slot not holding the current good
 * image and its header is written last, so an interrupted upload or a crash
 * mid-write never tears the stored module.
 *
 * Header states only ever clear bits (flash-friendly):
 *   erased -> written (trial) -> tried -> confirmed, or -> bad. */
#ifndef HR_STORAGE_H
#define HR_STORAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "hotreload/port.h"
#include "sha256.h"

#define HR_FWID_MAX 32

enum hr_image_state {
    HR_IMAGE_NONE,      /* empty or invalid slot */
    HR_IMAGE_TRIAL,     /* stored, never loaded at a start */
    HR_IMAGE_TRIED,     /* loaded at a start, not yet confirmed */
    HR_IMAGE_CONFIRMED, /* ran long enough / confirmed: a good image */
    HR_IMAGE_BAD,       /* tried and never confirmed: the device did not survive it */
};

struct hr_image {
    uint32_t slot;        /* 0 or 1 */
    uint32_t seq;         /* grows with every stored image */
    uint32_t length;      /* module bytes */
    uint8_t sha256[32];
    uint8_t fwid[HR_FWID_MAX];
    uint32_t fwid_len;
    enum hr_image_state state;
};

struct hr_store {
    struct hr_storage dev;
    uint32_t slot_size;    /* bytes per slot, header included */
    struct hr_image img[2];
};

/* Read both slot headers; a slot whose header or contents do not check out
 * is HR_IMAGE_NONE. Returns 0, or -1 when the device cannot be read. */
int hr_store_open(struct hr_store *st, const struct hr_storage *dev);
/* The most space a module may take in this store. */
uint32_t hr_store_capacity(const struct hr_store *st);
/* The image to load at start: the newest one not BAD; a TRIED one (the
 * device restarted before confirming it) is marked BAD and the other slot's
 * image is chosen. NULL when nothing is stored. */
const struct hr_image *hr_store_boot_image(struct hr_store *st);
/* The newest valid image (what a reload loads), NULL if none. */
const struct hr_image *hr_store_newest(const struct hr_store *st);

/* The image's module bytes: mapped in place when the device can map, else
 * read into `*buf` (allocated with the port's alloc; the caller frees it).
 * Verifies the SHA-256. Returns 0 or -1. */
int hr_store_get(struct hr_store *st, const struct hr_image *img, const struct hr_port *mem,
                 const void **bytes, void **buf);
void hr_store_put(struct hr_store *st, const struct hr_image *img, const void *bytes, void *buf,
                  const struct hr_port *mem);

int hr_store_mark(struct hr_store *st, const struct hr_image *img, enum hr_image_state state);

/* A staged write. */
struct hr_store_writer {
    struct hr_store *st;
    uint32_t slot;
    uint32_t length;      /* announced */
    uint32_t written;
    struct hr_sha256 sha;
    uint8_t digest[32];
    bool finished;
    bool verified;        /* read back and found as hashed (hr_store_staged) */
};

/* Erase the free slot and get ready for `length` bytes. -1 if it cannot
 * hold them. */
int hr_store_begin(struct hr_store *st, uint32_t length, struct hr_store_writer *w);
/* hr_store_begin in two halves, for a caller whose lock guards the store's
 * state but must not be held over flash I/O (an erase can take a second):
 * hr_store_reserve picks the slot and forgets its image, no I/O (marks on
 * it are refused from then on); hr_store_erase erases it, I/O only, on the
 * writer's own slot. -1 from the erase ends the writer. */
int hr_store_reserve(struct hr_store *st, uint32_t length, struct hr_store_writer *w);
int hr_store_erase(struct hr_store_writer *w);
int hr_store_write(struct hr_store_writer *w, const void *data, uint32_t len);
/* All bytes arrived: returns 0 and the SHA-256, or -1 when fewer or more
 * bytes than announced were written. */
int hr_store_finish(struct hr_store_writer *w, uint8_t sha256[32]);
/* The finished, staged bytes read back -- mapped or copied, as
 * hr_store_get -- and checked against the SHA-256 they were streamed with:
 * a loader can prepare the module from them before the header is written,
 * and hr_store_commit skips its own read-back. Release with hr_store_put(st,
 * img, ...). Returns 0 or -1. */
int hr_store_staged(struct hr_store_writer *w, const struct hr_port *mem, struct hr_image *img,
                    const void **bytes, void **buf);
/* Write the header (state TRIAL): from now on this is the newest image.
 * The body is read back and checked first unless hr_store_staged did. */
int hr_store_commit(struct hr_store_writer *w, const uint8_t *fwid, uint32_t fwid_len);
/* hr_store_commit in two halves, as above: hr_store_seal writes the header
 * (with `tried`, also the TRIED mark: the image starts at once) and
 * describes the image in *img without touching the store's state;
 * hr_store_adopt records it, under the caller's lock. */
int hr_store_seal(struct hr_store_writer *w, const uint8_t *fwid, uint32_t fwid_len, bool tried,
                  struct hr_image *img);
void hr_store_adopt(struct hr_store_writer *w, const struct hr_image *img);
/* Forget the staged bytes; the stored images are untouched. */
void hr_store_abort(struct hr_store_writer *w);

#endif
