/* Refused: built without -mlongcalls, so its call into the firmware is a
 * direct CALL0, which reaches 512 KiB; the firmware lies about 1 MiB from
 * the module's code. */
#include "calc.h"

int32_t short_entry(int32_t x);

int32_t short_entry(int32_t x)
{
    return fw_scale(x) * 2;
}
