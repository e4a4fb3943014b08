/* The fuzz targets without libFuzzer: each input file named, and every file
 * in each directory named (in name order), goes once through the target's
 * LLVMFuzzerTestOneInput. ctest runs it over the seed corpus and the crash
 * inputs kept in regressions/, in the normal build and under ASan+UBSan.
 *
 * An input also fails when the process grows past RSS_LIMIT_MB, as libFuzzer
 * stops at -rss_limit_mb (tighter here: the replay has no corpus to keep).
 *
 * Usage: fuzz_replay_TARGET PATH...   (fails when no input was found) */
#define _DEFAULT_SOURCE /* scandir, alphasort, DT_* */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "fuzz.h"

#define RSS_LIMIT_MB 1024

/* Exactly `size` bytes of heap, as libFuzzer passes them, so that ASan sees
 * a read one byte past the input. */
static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    size_t cap = 4096, len = 0, n;
    uint8_t *buf = malloc(cap);
    while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
        len += n;
        if (len == cap) {
            uint8_t *more = realloc(buf, cap *= 2);
            if (!more)
                free(buf);
            buf = more;
        }
    }
    fclose(f);
    uint8_t *exact = buf ? malloc(len ? len : 1) : NULL;
    if (!exact) {
        fprintf(stderr, "%s: out of memory\n", path);
        free(buf);
        return -1;
    }
    memcpy(exact, buf, len);
    free(buf);
    int rc = LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    if (rc != 0)
        fprintf(stderr, "%s: the target returned %d\n", path, rc);
    static bool over; /* the peak only grows: name the input that crossed it */
    struct rusage ru;
    if (!over && getrusage(RUSAGE_SELF, &ru) == 0 && ru.ru_maxrss / 1024 > RSS_LIMIT_MB) {
        fprintf(stderr, "%s: the process grew to %ld MiB, over the %d MiB an input may take\n",
                path, ru.ru_maxrss / 1024, RSS_LIMIT_MB);
        over = true;
        return -1;
    }
    return rc != 0 ? -1 : 0;
}

static int visible(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

int main(int argc, char **argv)
{
    int failed = 0;
    long total = 0;
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            perror(argv[i]);
            failed++;
            continue;
        }
        if (!S_ISDIR(st.st_mode)) {
            failed += run_file(argv[i]) != 0;
            total++;
            continue;
        }
        struct dirent **names;
        int n = scandir(argv[i], &names, visible, alphasort);
        if (n < 0) {
            perror(argv[i]);
            failed++;
            continue;
        }
        long here = 0;
        for (int k = 0; k < n; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[i], names[k]->d_name);
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                failed += run_file(path) != 0;
                here++;
            }
            free(names[k]);
        }
        free(names);
        printf("%s: %ld inputs\n", argv[i], here);
        total += here;
    }
    if (total == 0) {
        fprintf(stderr, "no input found: nothing was tested\n");
        return 1;
    }
    printf("%ld inputs replayed, %d failed\n", total, failed);
    return failed ? 1 : 0;
}
