/* A test module with a block of data whose every word depends on its
 * position and on VALUE: two versions differ all through, so an image
 * made of pieces of both (torn) matches neither's SHA-256. BLOB picks the
 * size: W1K (4 KiB) or W16K (64 KiB). mod_after_reload is for hook_fw's
 * post-reload hook (AFTER: what it returns; TRAP: it traps instead). */
#define W(i) (unsigned)((i) * 2654435761u + VALUE * 40503u)
#define W4(i) W(i), W((i) + 1), W((i) + 2), W((i) + 3)
#define W16(i) W4(i), W4((i) + 4), W4((i) + 8), W4((i) + 12)
#define W64(i) W16(i), W16((i) + 16), W16((i) + 32), W16((i) + 48)
#define W256(i) W64(i), W64((i) + 64), W64((i) + 128), W64((i) + 192)
#define W1K(i) W256(i), W256((i) + 256), W256((i) + 512), W256((i) + 768)
#define W4K(i) W1K(i), W1K((i) + 1024), W1K((i) + 2048), W1K((i) + 3072)
#define W16K(i) W4K(i), W4K((i) + 4096), W4K((i) + 8192), W4K((i) + 12288)

const unsigned mod_blob[] = {BLOB(0)};

long mod_value(void)
{
    return VALUE;
}

long mod_calls(void)
{
    static long calls;
    return ++calls;
}

#ifdef AFTER
static volatile long *volatile nowhere;

long mod_after_reload(void)
{
#ifdef TRAP
    *nowhere = 1;
#endif
    return AFTER;
}
#endif
