# Turns a text file into a C++ source defining `herald::net::embedded_page`.
file(READ "${IN}" content)
file(WRITE "${OUT}" "namespace herald::net {\nextern const char* const embedded_page;\nconst char* const embedded_page = R\"herald_page(${content})herald_page\";\n}\n")
