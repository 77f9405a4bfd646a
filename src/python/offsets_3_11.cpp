// Field offsets of CPython 3.11 (x86_64, default build), checked against the interpreters' DWARF
// by tests/unit/python/test_offsets_dwarf.cpp.
#include "cpuprof/python/offsets.hpp"

namespace cpuprof::python {

const PyOffsets kOffsets_3_11 = {
    .major = 3,
    .minor = 11,
    .frame_model = FrameModel::CFrame,
    .line_table = LineTableKind::Locations,
    .gil_model = GilModel::RuntimeTstateCurrent,
    .runtime = {.interpreters_head = 40, .tstate_current = 576},
    .interp = {.next = 0, .threads_head = 16, .id = 48, .modules = 888},
    .thread = {.prev = 0,
               .next = 8,
               .interp = 16,
               .cframe = 56,
               .thread_id = 152,
               .native_thread_id = 160},
    .cframe = {.current_frame = 8},
    .frame = {.size = 72, .previous = 48, .code = 32, .instr_ptr = 56, .owner = 69, .is_entry = 68},
    .code = {.size = 192,
             .filename = 112,
             .name = 120,
             .qualname = 128,
             .firstlineno = 72,
             .linetable = 136,
             .code_adaptive = 184},
    .object = {.tp_flags = 168},
    .unicode = {.state = 32, .ascii_data = 48, .compact_data = 72},
    .instance_dict = InstanceDictModel::ManagedSplit,
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
    .type = {.tp_dictoffset = 288, .ht_cached_keys = 872},
    .instance = {.dict_before = 24, .values_before = 32},
    .long_int = {.ob_size = 16, .ob_digit = 24},
    .module = {.md_dict = 16},
};

} // namespace cpuprof::python
