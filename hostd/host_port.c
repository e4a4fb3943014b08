#include "host_port.h"

#include <stdlib.h>

static void *hp_alloc(void *ctx, size_t size)
{
    (void)ctx;
    return malloc(size);
}

static void hp_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static hr_addr_t align_up(hr_addr_t v, size_t a) { return (v + a - 1) & ~(hr_addr_t)(a - 1); }

static int hp_region_alloc(void *vctx, enum hr_region_kind kind, size_t size, size_t align,
                           struct hr_mem *out)
{
    struct host_port_ctx *ctx = vctx;
    hr_addr_t *cursor = kind == HR_REGION_TEXT ? &ctx->text_next : &ctx->data_next;
    if (ctx->base[kind])
        *cursor = ctx->base[kind];
    out->addr = align_up(*cursor, align);
    *cursor = out->addr + size;
    out->size = size;
    out->write = malloc(size);
    return out->write ? 0 : -1;
}

static void hp_region_free(void *ctx, enum hr_region_kind kind, const struct hr_mem *mem)
{
    (void)ctx;
    (void)kind;
    free(mem->write);
}

void host_port_init(struct hr_port *port, struct host_port_ctx *ctx, hr_addr_t text,
                    hr_addr_t data)
{
    ctx->text_next = text;
    ctx->data_next = data;
    *port = (struct hr_port){
        .ctx = ctx,
        .alloc = hp_alloc,
        .free = hp_free,
        .region_alloc = hp_region_alloc,
        .region_free = hp_region_free,
        .sync_code = NULL,
    };
}
