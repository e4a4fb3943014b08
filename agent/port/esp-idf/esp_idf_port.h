/* Inside the ESP-IDF port. */
#ifndef HR_ESP_IDF_PORT_H
#define HR_ESP_IDF_PORT_H

#include "hotreload/port.h"

/* The partition labelled `name` (any type) as module storage (storage.c). */
int hr_idf_storage_open(const char *name, struct hr_storage *out);
/* RAM the CPU executes, on chips (exec_mem.c). */
extern const struct hr_port hr_idf_exec_mem;

#endif
