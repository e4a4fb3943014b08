/* agent/runtime/auth.c is shared with the device. hotd only signs
 * (hr_auth_sign), but the verifying half of that file refers to the
 * runtime's replay state, which the host does not have: these make any
 * verification attempted on the host fail closed. */
#include "hotreload/transport.h"

const char *hr_rt_nonce(void)
{
    return "";
}

uint64_t hr_rt_counter_last(void)
{
    return UINT64_MAX;
}

bool hr_rt_counter_accept(uint64_t counter)
{
    (void)counter;
    return false;
}
