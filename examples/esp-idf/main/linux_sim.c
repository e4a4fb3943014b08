/* Only on the linux target (a Linux process stands for the chip): the port
 * and a kept emulated flash come from the environment, so that a test can run
 * several devices and restart one on the flash it wrote. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hotreload.h"
#include "sdkconfig.h"

#if CONFIG_IDF_TARGET_LINUX
#include "esp_partition.h"
#include "esp_private/partition_linux.h"

void example_linux_setup(hotreload_server_config_t *server);

void example_linux_setup(hotreload_server_config_t *server)
{
    const char *port = getenv("HOTRELOAD_PORT");
    const char *flash = getenv("HOTRELOAD_FLASH"); /* a flash file a previous run left */
    if (port && *port)
        server->port = (uint16_t)atoi(port);
    if (flash && *flash) {
        esp_partition_file_mmap_ctrl_t *in = esp_partition_get_file_mmap_ctrl_input();
        snprintf(in->flash_file_name, sizeof in->flash_file_name, "%s", flash);
    }
    /* Maps the emulated flash now, to say which file it is. */
    esp_partition_find_first(ESP_PARTITION_TYPE_ANY, ESP_PARTITION_SUBTYPE_ANY, NULL);
    printf("emulated flash: %s\n", esp_partition_get_file_mmap_ctrl_act()->flash_file_name);
}
#endif
