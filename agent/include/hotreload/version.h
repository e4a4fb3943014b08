/* hotreload's version: the one place it is written. The build reads it
 * (CMakeLists.txt's project() version), hotd prints it (--version) and the
 * device reports it (GET /status "version"). */
#ifndef HOTRELOAD_VERSION_H
#define HOTRELOAD_VERSION_H

#define HOTRELOAD_VERSION "0.1.0"

#endif
