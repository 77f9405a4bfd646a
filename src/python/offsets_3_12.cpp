// Field offsets of CPython 3.12 (x86_64, default build), checked against the interpreters' DWARF
// by tests/unit/python/test_offsets_dwarf.cpp.
#include "cpuprof/python/offsets.hpp"

namespace cpuprof::python {

const PyOffsets kOffsets_3_12 = {
    .major = 3,
    .minor = 12,
    .frame_model = FrameModel::CFrame,
    .line_table = LineTableKind::Locations,
    .gil_model = GilModel::InterpreterGil,
    .shim_owner = 3,
    .runtime = {.interpreters_head = 40},
    .interp = {.next = 0, .threads_head = 72, .id = 8, .modules = 944, .ceval_gil = 384},
    .gil = {.last_holder = 8, .locked = 16},
    .thread = {.prev = 0,
               .next = 8,
               .interp = 16,
               .cframe = 56,
               .thread_id = 136,
               .native_thread_id = 144},
    .cframe = {.current_frame = 0},
    .frame = {.size = 72, .previous = 8, .code = 0, .instr_ptr = 56, .owner = 70},
    .code = {.size = 200,
             .filename = 112,
             .name = 120,
             .qualname = 128,
             .firstlineno = 68,
             .linetable = 136,
             .code_adaptive = 192},
    .object = {.tp_flags = 168},
    .unicode = {.state = 32, .ascii_data = 40, .compact_data = 56},
    .instance_dict = InstanceDictModel::TaggedDictOrValues,
    .dict = {.ma_used = 16,
             .ma_keys = 32,
             .ma_values = 40,
             .dk_log2_size = 8,
             .dk_log2_index_bytes = 9,
             .dk_kind = 10,
             .dk_nentries = 24,
             .dk_indices = 32,
             .values = 0,
             .entry_size = 24,
             .unicode_entry_size = 16},
    .type = {.tp_dictoffset = 288, .ht_cached_keys = 880},
    .instance = {.dict_before = 24},
    .long_int = {.lv_tag = 16, .ob_digit = 24},
    .module = {.md_dict = 16},
};

} // namespace cpuprof::python
