# Strict warnings and hardening shared by every target of the project.
add_compile_options(
  -Wall -Wextra -Werror
  -Wshadow -Wformat=2 -Wformat-security -Wstrict-prototypes -Wmissing-prototypes
  -Wold-style-definition -Wpointer-arith -Wcast-align -Wwrite-strings
  -Wundef -Wvla -Wnull-dereference -Wimplicit-fallthrough -Wswitch-enum
  -Wno-sign-compare -Wno-missing-field-initializers
  # Messages are cut to their buffers on purpose; paths are checked where it matters.
  $<$<C_COMPILER_ID:GNU>:-Wno-format-truncation>
  -fno-strict-aliasing -fstack-protector-strong -fstack-clash-protection
  -fcf-protection
)
if(NOT PYMCP_SANITIZE)
  add_compile_definitions($<$<NOT:$<CONFIG:Debug>>:_FORTIFY_SOURCE=2>)
endif()
add_link_options(-Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
add_link_options(-pie)

if(PYMCP_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
