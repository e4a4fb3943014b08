# What the hotreload component compiles, relative to agent/: its sources for
# the target the sdkconfig names, include dirs and definitions. One list read
# by the component's CMakeLists.txt and by the esp32c3 compile check
# (tests/esp-idf/c3_check_test.py, through tests/esp-idf/component_sources.cmake),
# so the check cannot drift from the build. Reads only CONFIG_* variables.
set(hotreload_srcs
  core/elf.c core/fmt.c core/ident.c core/loader.c core/module.c core/relocate.c core/symbols.c
  core/names.c runtime/auth.c runtime/built.c runtime/console.c runtime/debug.c
  runtime/hotreload.c runtime/http.c runtime/http_parse.c runtime/http_reply.c runtime/rt.c
  runtime/sha256.c runtime/status.c runtime/storage.c runtime/swap.c runtime/transport.c
  runtime/upload.c port/esp-idf/platform.c port/esp-idf/storage.c port/esp-idf/sha256_psa.c
  transport/esp-idf/http_server.c)
# HR2 verified by ESP-IDF's own mbedTLS through PSA; an HMAC build links none.
if(CONFIG_HOTRELOAD_AUTH_HMAC)
  list(APPEND hotreload_srcs runtime/auth_ecdsa_none.c)
else()
  list(APPEND hotreload_srcs runtime/auth_ecdsa_psa.c)
endif()
# The loader carries its own architecture's relocator only; module memory is
# the host's on the linux target, executable RAM on chips.
if(CONFIG_IDF_TARGET_LINUX)
  list(APPEND hotreload_srcs core/reloc_x86_64.c port/posix/host.c port/posix/host_mem.c)
elseif(CONFIG_IDF_TARGET_ARCH_RISCV)
  list(APPEND hotreload_srcs core/reloc_riscv.c port/esp-idf/exec_mem.c)
else()
  list(APPEND hotreload_srcs core/reloc_xtensa.c port/esp-idf/exec_mem.c)
endif()
set(hotreload_include_dirs include)
set(hotreload_priv_include_dirs runtime port/esp-idf port/posix)
set(hotreload_definitions HR_NATIVE_RELOCATOR HR_SHA256_PSA)
