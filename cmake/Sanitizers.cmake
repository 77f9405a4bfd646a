# CPUPROF_SANITIZE=ON builds everything with AddressSanitizer and UndefinedBehaviorSanitizer.
option(CPUPROF_SANITIZE "Build with ASan and UBSan" OFF)
add_library(cpuprof_options INTERFACE)
add_library(cpuprof::options ALIAS cpuprof_options)
if(CPUPROF_SANITIZE)
    target_compile_options(cpuprof_options INTERFACE
        -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
    target_link_options(cpuprof_options INTERFACE -fsanitize=address,undefined)
endif()
