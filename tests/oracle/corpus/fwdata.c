/* Firmware data: read, written, and pointed to from module data. */
#include <stdint.h>
extern volatile uint32_t fw_ticks;
extern int fw_config[16];
extern struct fw_dev { int id; int flags; char name[8]; } fw_devices[4];
extern const char fw_version[];
extern uint8_t fw_ram[];

int *const p_cfg = &fw_config[3];
static struct fw_dev *dev_ptr = &fw_devices[2];
const char *const ver_ptr = fw_version;
uint8_t *ram_mid = fw_ram + 1000;
static volatile uint32_t *tick_ptr = &fw_ticks;

uint32_t fwdata_poll(int i)
{
    uint32_t t = fw_ticks;
    fw_ticks = t + 1;
    fw_config[i & 15] += (int)t;
    fw_devices[i & 3].flags |= 1;
    dev_ptr->id = i;
    *p_cfg = fw_version[0];
    ram_mid[i] = (uint8_t)ver_ptr[1];
    fw_ram[7] = fw_devices[1].name[i & 7];
    return *tick_ptr + (uint32_t)fw_config[0];
}

void *fwdata_where(int k)
{
    switch (k) {
    case 0: return (void *)&fw_ticks;
    case 1: return fw_config + 5;
    case 2: return &fw_devices[3].name[2];
    default: return (void *)fw_version;
    }
}
