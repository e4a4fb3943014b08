/* zlib's inflate as a port's inflater (inflate_zlib.c). */
#ifndef HR_INFLATE_ZLIB_H
#define HR_INFLATE_ZLIB_H

#include "hotreload/port.h"

extern const struct hr_inflater hr_zlib_inflater;

#endif
