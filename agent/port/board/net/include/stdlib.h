/* What lwIP takes from <stdlib.h> on a target without a C library: atoi
 * (netif_find; netif.c defines it). */
#ifndef HR_BOARD_LWIP_STDLIB_H
#define HR_BOARD_LWIP_STDLIB_H

int atoi(const char *s);

#endif
