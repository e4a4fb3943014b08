/* The debug descriptor (hotreload/debug.h): kept up to date around every
 * placement and every free, so a debugger attached to the device follows
 * reloads without ever restoring stale bytes into reused memory. */
#include <string.h>

#include "hotreload/debug.h"
#include "rt.h"

struct hotreload_debug hotreload_debug = {HOTRELOAD_DEBUG_VERSION, 0, 0, -1, {{0}}};

__attribute__((noinline, used)) void hotreload_debug_notify(void)
{
    /* An empty asm keeps the call and the function from being optimised out. */
    __asm__ volatile("" ::: "memory");
}

static void notify(enum hotreload_debug_action action, int subject)
{
    hotreload_debug.action = action;
    hotreload_debug.subject = subject;
    hotreload_debug.changes++;
    hotreload_debug_notify();
}

static int find(const struct hr_module *mod)
{
    for (int i = 0; i < HOTRELOAD_DEBUG_MAX_OBJECTS; i++)
        if (hr_rt.debug_mods[i] == mod)
            return i;
    return -1;
}

void hr_debug_added(const char *name, struct hr_module *mod, uint32_t generation,
                    const uint8_t *build_id, uint32_t build_id_len)
{
    int slot = find(NULL);
    size_t n = hr_module_section_count(mod);
    struct hotreload_debug_section *secs =
        slot >= 0 ? hr_rt.pf->mem->alloc(hr_rt.pf->mem->ctx, n * sizeof *secs + 1) : NULL;
    if (!secs) {
        hr_rt_log("hotreload: debug descriptor full: a debugger will not see module '%s'",
                  name);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct hr_section_info *s = hr_module_section(mod, i);
        secs[i] = (struct hotreload_debug_section){s->name, s->addr, s->size};
    }
    struct hotreload_debug_object *o = &hotreload_debug.objects[slot];
    o->module = name;
    o->generation = generation;
    o->build_id_len = build_id_len < sizeof o->build_id ? build_id_len : sizeof o->build_id;
    memcpy(o->build_id, build_id, o->build_id_len);
    o->sections = secs;
    o->nsections = (uint32_t)n;
    hr_rt.debug_mods[slot] = mod;
    notify(HOTRELOAD_DEBUG_ADD, slot);
    notify(HOTRELOAD_DEBUG_CONSISTENT, -1);
}

void hr_debug_removing(struct hr_module *mod)
{
    int slot = mod ? find(mod) : -1;
    if (slot < 0)
        return;
    notify(HOTRELOAD_DEBUG_DELETE, slot);
    struct hotreload_debug_object *o = &hotreload_debug.objects[slot];
    hr_rt.pf->mem->free(hr_rt.pf->mem->ctx, (void *)o->sections);
    memset(o, 0, sizeof *o);
    hr_rt.debug_mods[slot] = NULL;
    notify(HOTRELOAD_DEBUG_CONSISTENT, -1);
}
