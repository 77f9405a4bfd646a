#include "cpuprof/python/offsets.hpp"

namespace cpuprof::python {

const PyOffsets* static_offsets(int major, int minor) {
    if (major != 3) {
        return nullptr;
    }
    switch (minor) {
    case 8:
        return &kOffsets_3_8;
    case 9:
        return &kOffsets_3_9;
    case 10:
        return &kOffsets_3_10;
    case 11:
        return &kOffsets_3_11;
    case 12:
        return &kOffsets_3_12;
    case 13:
        return &kOffsets_3_13;
    default:
        return nullptr;
    }
}

} // namespace cpuprof::python
