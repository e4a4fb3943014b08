/* app_main as igrr/hotreload's users write it: load the reloadable code,
 * start the upload server, call the reloadable functions, reload at a safe
 * point. greet and count are reloadable components. */
#include <stdio.h>

#include "count.h"
#include "freertos/FreeRTOS.h"
#include "freertos/task.h"
#include "greet.h"
#include "hotreload.h"
#include "sdkconfig.h"

#if CONFIG_IDF_TARGET_LINUX
void example_linux_setup(hotreload_server_config_t *server); /* linux_sim.c */
#endif

void app_main(void)
{
    hotreload_server_config_t server_config = HOTRELOAD_SERVER_CONFIG_DEFAULT();
#if CONFIG_IDF_TARGET_LINUX
    example_linux_setup(&server_config);
#endif
    hotreload_config_t config = HOTRELOAD_CONFIG_DEFAULT();
    esp_err_t err = hotreload_load(&config);
    if (err != ESP_OK)
        printf("not everything loaded (%s): push the modules\n", hotreload_last_error());
    err = hotreload_server_start(&server_config);
    if (err != ESP_OK) {
        printf("hotreload server failed: %s\n", hotreload_last_error());
        return;
    }
    printf("hotreload server running on port %u\n", (unsigned)server_config.port);

    for (int n = 0;; n++) {
        if (n % 5 == 0) {
            const char *text = greet_text();
            printf("greet: %s | count: %d\n", text ? text : "(none)", count_next());
            fflush(stdout);
        }
        /* The safe point: no reloadable function is running here. */
        if (hotreload_update_available())
            hotreload_reload(&config);
        vTaskDelay(pdMS_TO_TICKS(100));
    }
}
