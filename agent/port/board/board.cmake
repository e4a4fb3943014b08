# What the bare-metal boards' ports build the same way (included by each
# board's CMakeLists.txt): the freestanding string functions, the shared
# board code and transports, and the libraries built from Debian's source
# packages -- lwIP for HTTP, zlib for compressed uploads, mbedTLS for HR2
# signatures -- each behind an option. hr_board_port(TARGET NAME) adds them
# to the board's library TARGET; NAME is the board's, for messages.
set(_hr_board ${CMAKE_CURRENT_LIST_DIR})
get_filename_component(_hr_agent ${_hr_board}/../.. ABSOLUTE)

# No C library: the loader core and the runtime use these string functions.
# gcc would turn their loops back into calls to themselves without the flags.
add_library(hotreload_freestanding STATIC ${_hr_board}/../freestanding/string.c)
target_include_directories(hotreload_freestanding PUBLIC ${_hr_board}/../freestanding/include)
target_compile_options(hotreload_freestanding PRIVATE -fno-builtin
                       -fno-tree-loop-distribute-patterns)
target_link_libraries(hotreload_loader PUBLIC hotreload_freestanding)
target_link_libraries(hotreload_loader_native PUBLIC hotreload_freestanding)

# A library built from Debian's source package: scripts/fetch-source fetches
# and unpacks it at configure time into build/PKG unless the cache variable
# VAR names a tree already; MARKER is a file the tree must hold, WITHOUT the
# option that builds without it.
function(hr_fetch_source pkg var marker doc without)
  set(${var} "" CACHE PATH "${doc}")
  if(NOT ${var})
    execute_process(COMMAND ${_hr_agent}/../scripts/fetch-source ${pkg}
                    OUTPUT_VARIABLE src OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0 OR NOT EXISTS ${src}/${marker})
      message(FATAL_ERROR "${pkg}'s source could not be fetched (scripts/fetch-source, see "
              "above). Give -D${var}=<${pkg} tree>, or build without: ${without}")
    endif()
    set(${var} ${src} CACHE PATH "${doc}" FORCE)
  endif()
endfunction()

option(HOTRELOAD_BOARD_HTTP "The HTTP endpoints over lwIP and the board's Ethernet" ON)
option(HOTRELOAD_BOARD_INFLATE "Take compressed uploads (zlib's inflate)" ON)
option(HOTRELOAD_BOARD_ECDSA "Verify HR2 signatures (mbedTLS); OFF: HMAC (HR1) only" ON)

# HTTP: lwIP, built from Debian's source package, configured by
# net/include (lwipopts.h, arch/cc.h), on the board's Ethernet driver
# (net/eth.h) through net/netif.c. The board adds its driver to TARGET.
function(_hr_board_lwip target)
  hr_fetch_source(lwip HOTRELOAD_LWIP_DIR src/core/tcp.c
                  "An unpacked lwIP 2.1 source tree (holding src/)" -DHOTRELOAD_BOARD_HTTP=OFF)
  set(_l ${HOTRELOAD_LWIP_DIR}/src)
  add_library(hotreload_lwip STATIC
    ${_l}/core/init.c ${_l}/core/def.c ${_l}/core/inet_chksum.c ${_l}/core/ip.c
    ${_l}/core/mem.c ${_l}/core/memp.c ${_l}/core/netif.c ${_l}/core/pbuf.c
    ${_l}/core/tcp.c ${_l}/core/tcp_in.c ${_l}/core/tcp_out.c ${_l}/core/timeouts.c
    ${_l}/core/ipv4/etharp.c ${_l}/core/ipv4/icmp.c ${_l}/core/ipv4/ip4.c
    ${_l}/core/ipv4/ip4_addr.c ${_l}/netif/ethernet.c)
  target_include_directories(hotreload_lwip PUBLIC ${_hr_board}/net/include ${_l}/include)
  target_link_libraries(hotreload_lwip PUBLIC hotreload_freestanding)
  target_sources(${target} PRIVATE ${_hr_board}/net/netif.c
                 ${_hr_agent}/transport/board/http_lwip.c)
  target_include_directories(${target} PRIVATE ${_hr_board}/net)
  target_link_libraries(${target} PUBLIC hotreload_lwip)
endfunction()

# Compressed uploads: zlib's inflater, built from Debian's source package as
# lwIP is, with Z_SOLO (no C library; memory from the board's heap, through
# ../zlib/inflate_zlib.c). About 10 KB of code and 11 KB of heap while an
# upload inflates.
function(_hr_board_zlib target)
  hr_fetch_source(zlib HOTRELOAD_ZLIB_DIR inflate.c
                  "An unpacked zlib 1.2 source tree (holding inflate.c)"
                  -DHOTRELOAD_BOARD_INFLATE=OFF)
  set(_z ${HOTRELOAD_ZLIB_DIR})
  add_library(hotreload_zlib STATIC ${_z}/inflate.c ${_z}/inftrees.c ${_z}/inffast.c
              ${_z}/zutil.c ${_z}/adler32.c ${_z}/crc32.c)
  target_include_directories(hotreload_zlib PUBLIC ${_z})
  target_compile_definitions(hotreload_zlib PUBLIC Z_SOLO)
  target_link_libraries(hotreload_zlib PUBLIC hotreload_freestanding)
  target_sources(${target} PRIVATE ${_hr_board}/../zlib/inflate_zlib.c)
  target_include_directories(${target} PRIVATE ${_hr_board}/../zlib)
  target_compile_definitions(${target} PRIVATE HOTRELOAD_INFLATE)
  target_link_libraries(${target} PUBLIC hotreload_zlib)
endfunction()

# TARGET: the board's port library, its own sources already in it.
function(hr_board_port target)
  target_sources(${target} PRIVATE ${HOTRELOAD_RUNTIME_SOURCES} ${_hr_board}/board.c
                 ${_hr_board}/heap.c ${_hr_agent}/transport/board/console_uart.c)
  target_compile_options(${target} PRIVATE $<$<COMPILE_LANGUAGE:C>:-Werror>)
  if(HOTRELOAD_BOARD_HTTP)
    _hr_board_lwip(${target})
  endif()
  if(HOTRELOAD_BOARD_INFLATE)
    _hr_board_zlib(${target})
  endif()
  # HR2: ECDSA P-256 verified by mbedTLS's PSA Crypto (runtime/auth_ecdsa_psa.c),
  # mbedTLS built from Debian's source package as lwIP is (mbedtls/CMakeLists.txt).
  if(HOTRELOAD_BOARD_ECDSA)
    add_subdirectory(${_hr_board}/mbedtls ${CMAKE_CURRENT_BINARY_DIR}/mbedtls)
    target_sources(${target} PRIVATE ${_hr_agent}/runtime/auth_ecdsa_psa.c)
    target_link_libraries(${target} PUBLIC hotreload_mbedcrypto)
    set_target_properties(${target} PROPERTIES HOTRELOAD_ECDSA ON)
  else()
    target_sources(${target} PRIVATE ${HOTRELOAD_ECDSA_NONE})
  endif()
  target_include_directories(${target} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR} ${_hr_board}
                             ${_hr_agent}/include PRIVATE ${_hr_agent}/runtime)
  # libgcc last: 64-bit division and shifts for the agent, and whatever
  # helpers the modules import (hotd stubs lists them in NAME_imports.ld).
  target_link_libraries(${target} PUBLIC hotreload_loader_native gcc)
  # -z noexecstack: libgcc's objects carry no stack note; there is no such thing here.
  target_link_options(${target} INTERFACE -nostdlib -Wl,-z,noexecstack
                      -T${CMAKE_CURRENT_SOURCE_DIR}/link.ld)
  set_property(TARGET ${target} APPEND PROPERTY INTERFACE_LINK_DEPENDS
               ${CMAKE_CURRENT_SOURCE_DIR}/link.ld)
  # No symbol lookup on the device: modules are bound to the firmware's
  # addresses at build time (hotd bind --absolute).
  set_property(TARGET ${target} PROPERTY HOTRELOAD_BIND_ABSOLUTE ON)
endfunction()
