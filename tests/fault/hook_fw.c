/* tests/device/fw.c (its main renamed device_main) with a post-reload hook
 * that calls the new module's mod_after_reload when it exports one, as a
 * firmware does that lets each module re-initialise what it drives. Prints
 * "post-hook: <what the module returned>" or "post-hook: none". */
#include <stdio.h>

#include "hotreload.h"

int device_main(int argc, char **argv);

static void after_reload(void *ctx)
{
    (void)ctx;
    long (*fn)(void) = (long (*)(void))hotreload_lookup("main", "mod_after_reload");
    if (fn)
        printf("post-hook: %ld\n", fn());
    else
        printf("post-hook: none\n");
}

int main(int argc, char **argv)
{
    hotreload_register_post_hook(after_reload, NULL);
    return device_main(argc, argv);
}
