# Warning flags as an INTERFACE target, linked privately by every project target.
add_library(cpuprof_warnings INTERFACE)
add_library(cpuprof::warnings ALIAS cpuprof_warnings)
target_compile_options(cpuprof_warnings INTERFACE
    -Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wcast-align -Wunused -Woverloaded-virtual
    -Wpedantic -Wno-missing-field-initializers -Wnull-dereference -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough
    $<$<CXX_COMPILER_ID:GNU>:-Wmisleading-indentation -Wduplicated-cond -Wlogical-op>)
