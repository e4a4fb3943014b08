/* Module storage in a flash partition (esp_partition), the image read in
 * place through esp_partition_mmap: no RAM copy of the module. */
#include <stddef.h>
#include <stdint.h>

#include "esp_idf_port.h"
#include "esp_partition.h"

static int st_read(void *ctx, uint32_t off, void *buf, uint32_t len)
{
    return esp_partition_read(ctx, off, buf, len) == ESP_OK ? 0 : -1;
}

static int st_write(void *ctx, uint32_t off, const void *buf, uint32_t len)
{
    return esp_partition_write(ctx, off, buf, len) == ESP_OK ? 0 : -1;
}

static int st_erase(void *ctx, uint32_t off, uint32_t len)
{
    return esp_partition_erase_range(ctx, off, len) == ESP_OK ? 0 : -1;
}

/* Views handed out, to find each one's handle again at unmap. A module is
 * read through at most one view at a time per module. */
#define VIEWS 8
static struct {
    const void *view;
    esp_partition_mmap_handle_t handle;
} views[VIEWS];

static const void *st_map(void *ctx, uint32_t off, uint32_t len)
{
    for (int i = 0; i < VIEWS; i++) {
        if (views[i].view)
            continue;
        const void *p;
        if (esp_partition_mmap(ctx, off, len, ESP_PARTITION_MMAP_DATA, &p, &views[i].handle) !=
            ESP_OK)
            return NULL; /* the runtime then reads into RAM */
        views[i].view = p;
        return p;
    }
    return NULL;
}

static void st_unmap(void *ctx, const void *view, uint32_t len)
{
    (void)ctx, (void)len;
    for (int i = 0; i < VIEWS; i++)
        if (views[i].view == view) {
            esp_partition_munmap(views[i].handle);
            views[i].view = NULL;
        }
}

int hr_idf_storage_open(const char *name, struct hr_storage *out)
{
    const esp_partition_t *p =
        esp_partition_find_first(ESP_PARTITION_TYPE_ANY, ESP_PARTITION_SUBTYPE_ANY, name);
    if (!p)
        return -1;
    *out = (struct hr_storage){
        .ctx = (void *)p,
        .size = p->size,
        .erase_size = p->erase_size,
        .read = st_read,
        .write = st_write,
        .erase = st_erase,
        .map = st_map,
        .unmap = st_unmap,
    };
    return 0;
}
