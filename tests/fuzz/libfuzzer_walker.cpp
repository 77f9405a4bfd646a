#include "harnesses.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    cpuprof::fuzz::walker_one_input(data, size);
    return 0;
}
