#include "file.h"

#include <stdio.h>
#include <stdlib.h>

void *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    void *data = NULL;
    if (f && fseek(f, 0, SEEK_END) == 0 && (*size = (size_t)ftell(f)) > 0) {
        rewind(f);
        data = malloc(*size);
        if (data && fread(data, 1, *size, f) != *size) {
            free(data);
            data = NULL;
        }
    }
    if (f)
        fclose(f);
    if (!data) {
        fprintf(stderr, "bench: cannot read %s\n", path);
        exit(2);
    }
    return data;
}
