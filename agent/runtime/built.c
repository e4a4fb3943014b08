/* The modules a build declares (one per reloadable ESP-IDF component): the
 * generated code registers each before main, and a config naming no module
 * then means all of them, as igrr/hotreload's users expect of
 * hotreload_load(&HOTRELOAD_CONFIG_DEFAULT()). */
#include <string.h>

#include "../core/fmt.h"
#include "rt.h"

static struct {
    const char *name;
    const struct hotreload_symtab *symtab;
} built[HR_MAX_MODULES];
static int nbuilt;

/* Runs before main (constructors): no lock, no platform yet. */
void hotreload_register_build_module(const char *name, const struct hotreload_symtab *symtab)
{
    for (int i = 0; i < nbuilt; i++)
        if (strcmp(built[i].name, name) == 0)
            return;
    if (nbuilt < HR_MAX_MODULES) {
        built[nbuilt].name = name;
        built[nbuilt].symtab = symtab;
        nbuilt++;
    }
}

/* Module NAME keeps its images in partition "<partition>_NAME" when the
 * platform has one, else in "<partition>" (enough for one module; a second
 * one is refused by hr_rt_register with a message naming the partition to
 * add). */
static const char *partition_of(const hotreload_config_t *config, const char *name, char *buf,
                                size_t size)
{
    struct hr_storage dev;
    const struct hr_platform *pf = hr_rt.pf;
    const char *partition = config->partition ? config->partition : "hotreload";
    if (hr_fmt(buf, size, "%s_%s", partition, name) < size && pf->storage_open &&
        pf->storage_open(pf->ctx, buf, (uint32_t)hr_rt_size_limit(config), &dev) == 0)
        return buf;
    return partition;
}

bool hr_rt_each_built(const hotreload_config_t *config,
                      hotreload_err_t (*fn)(const hotreload_config_t *), hotreload_err_t *result)
{
    if (!config || config->module || nbuilt == 0)
        return false;
    hr_rt_start();
    hotreload_err_t first = HOTRELOAD_OK;
    int missing = 0;
    for (int i = 0; i < nbuilt; i++) {
        char part[HR_NAME_MAX];
        hotreload_config_t c = *config;
        c.module = built[i].name;
        c.symtab = built[i].symtab;
        c.partition = partition_of(config, c.module, part, sizeof part);
        hotreload_err_t err = fn(&c);
        if (err == HOTRELOAD_ERR_NOT_FOUND)
            missing++;
        else if (err && !first)
            first = err;
    }
    /* "Nothing stored" counts only when it holds for every module. */
    *result = first ? first : missing == nbuilt ? HOTRELOAD_ERR_NOT_FOUND : HOTRELOAD_OK;
    return true;
}
