/* lwIP's platform header for the bare-metal boards: no C library, so no
 * inttypes.h, ctype.h or printf; diagnostics and assertions go to the UART. */
#ifndef HR_BOARD_LWIP_CC_H
#define HR_BOARD_LWIP_CC_H

#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_CTYPE_H 1
#define LWIP_NO_UNISTD_H 1
#define X8_F "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "u"

#define BYTE_ORDER LITTLE_ENDIAN

void hr_lwip_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void hr_lwip_assert(const char *what, const char *file, int line);
#define LWIP_PLATFORM_DIAG(x) do { hr_lwip_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) hr_lwip_assert(x, __FILE__, __LINE__)

#endif
