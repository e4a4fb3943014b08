#include "greet.h"

const char *greet_text(void)
{
    return "hello from greet v1";
}
