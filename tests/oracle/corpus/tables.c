/* Lookup tables, 2-D arrays, pointers with addends in data. */
#include <stdint.h>
static const uint8_t crc_lo[16] = {0x00, 0x1d, 0x3a, 0x27, 0x74, 0x69, 0x4e, 0x53,
                                   0xe8, 0xf5, 0xd2, 0xcf, 0x9c, 0x81, 0xa6, 0xbb};
static const uint16_t grid[4][5] = {{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}, {11, 12, 13, 14, 15},
                                    {16, 17, 18, 19, 20}};
static int cells[32];
int *const cell_end = &cells[32];
int *cell_mid = cells + 16;
const uint16_t *const row2 = grid[2];
static const void *const mixed_ptrs[] = {crc_lo + 3, &grid[1][4], cells + 7, (const void *)0};

uint8_t tb_crc(const uint8_t *p, int n)
{
    uint8_t c = 0;
    while (n--)
        c = (uint8_t)(crc_lo[(c ^ *p++) & 15] ^ (c >> 4));
    return c;
}

int tb_grid(int r, int c) { return grid[r & 3][c % 5] + row2[c & 3] + *cell_mid; }

int tb_fill(int v)
{
    for (int *p = cells; p < cell_end; p++)
        *p = v++;
    return (int)(((const char *)mixed_ptrs[1] - (const char *)mixed_ptrs[0]) & 0xff);
}
