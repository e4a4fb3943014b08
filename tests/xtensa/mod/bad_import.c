/* Refused: imports a function the firmware does not have. */
#include <stdint.h>

int32_t fw_missing(int32_t x);
int32_t bad_entry(int32_t x);

int32_t bad_entry(int32_t x)
{
    return fw_missing(x) + 1;
}
