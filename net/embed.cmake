# Turns a text file into a C++ source defining `herald::net::<NAME>`.
file(READ "${IN}" content)
file(WRITE "${OUT}" "namespace herald::net {\nextern const char* const ${NAME};\nconst char* const ${NAME} = R\"herald_page(${content})herald_page\";\n}\n")
