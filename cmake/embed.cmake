# Turns a file into a C array: cmake -DIN=<file> -DOUT=<file.c> -DNAME=<symbol> -P embed.cmake
# (the project's Python helpers live as real .py files and reach the
# sandbox as bytes of the server).
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}" "/* Generated from ${IN} by cmake/embed.cmake. */\nconst char ${NAME}[] = {${bytes} 0x00};\n")
