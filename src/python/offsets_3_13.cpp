// Field offsets of CPython 3.13 (x86_64, default build), checked against the interpreters' DWARF
// by tests/unit/python/test_offsets_dwarf.cpp.
#include "cpuprof/python/offsets.hpp"

namespace cpuprof::python {

const PyOffsets kOffsets_3_13 = {
    .major = 3,
    .minor = 13,
    .frame_model = FrameModel::CurrentFrame,
    .line_table = LineTableKind::Locations,
    .gil_model = GilModel::InterpreterGil,
    .shim_owner = 3,
    .runtime = {.interpreters_head = 632},
    .interp = {.next = 7264, .threads_head = 7344, .id = 7272, .modules = 7656, .ceval_gil = 16},
    .gil = {.last_holder = 8, .locked = 16},
    .thread = {.prev = 0,
               .next = 8,
               .interp = 16,
               .current_frame = 72,
               .thread_id = 152,
               .native_thread_id = 160},
    .frame = {.size = 72, .previous = 8, .code = 0, .instr_ptr = 56, .owner = 70},
    .code = {.size = 208,
             .filename = 112,
             .name = 120,
             .qualname = 128,
             .firstlineno = 68,
             .linetable = 136,
             .code_adaptive = 200},
    .object = {.tp_flags = 168},
    .unicode = {.state = 32, .ascii_data = 40, .compact_data = 56},
};

} // namespace cpuprof::python
