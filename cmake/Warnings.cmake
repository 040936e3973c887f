# Strict warnings and hardening shared by every target of the project.
add_compile_options(
  -Wall -Wextra -Werror
  -Wshadow -Wformat=2 -Wformat-security -Wstrict-prototypes -Wmissing-prototypes
  -Wold-style-definition -Wpointer-arith -Wcast-align -Wwrite-strings
  -Wundef -Wvla -Wnull-dereference -Wimplicit-fallthrough -Wswitch-enum
  -Wno-sign-compare -Wno-missing-field-initializers
  # Messages are cut to their buffers on purpose; paths are checked where it matters.
  $<$<C_COMPILER_ID:GNU>:-Wno-format-truncation>
  # clang (the fuzz build) does not know every gcc warning above.
  $<$<C_COMPILER_ID:Clang>:-Wno-unknown-warning-option>
  $<$<C_COMPILER_ID:Clang>:-Wno-unused-command-line-argument>
  -fno-strict-aliasing -fstack-protector-strong -fstack-clash-protection
  -fcf-protection
)
if(NOT PYMCP_SANITIZE)
  add_compile_definitions($<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=2>)
endif()
add_link_options(-Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
add_link_options(-pie)

if(PYMCP_SANITIZE OR PYMCP_FUZZ)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
# The fuzz build instruments every library for coverage, so that the fuzz
# targets link the very libraries the programs link; only the targets
# themselves take libFuzzer's main (tests/*/CMakeLists.txt).
if(PYMCP_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "PYMCP_FUZZ=ON needs clang (cmake -DCMAKE_C_COMPILER=clang)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
