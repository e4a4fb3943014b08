/* Reads firmware data directly: built -fno-pic, the access is an
 * R_X86_64_PC32 against fw_counter, which cannot reach a far firmware. */
#include "fw_api.h"

int mod_read_counter(void);

int mod_read_counter(void)
{
    return fw_counter;
}
