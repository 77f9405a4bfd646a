// Field offsets of CPython 3.10 (x86_64, default build), checked against the interpreters' DWARF
// by tests/unit/python/test_offsets_dwarf.cpp.
#include "cpuprof/python/offsets.hpp"

namespace cpuprof::python {

const PyOffsets kOffsets_3_10 = {
    .major = 3,
    .minor = 10,
    .frame_model = FrameModel::FrameObject,
    .line_table = LineTableKind::Linetable,
    .gil_model = GilModel::RuntimeTstateCurrent,
    .runtime = {.interpreters_head = 32, .tstate_current = 568},
    .interp = {.next = 0, .threads_head = 8, .id = 24, .modules = 856},
    .thread = {.prev = 0, .next = 8, .interp = 16, .frame = 24, .thread_id = 176},
    .frame = {.size = 104, .previous = 24, .code = 32, .lasti = 96},
    .code = {.size = 128, .filename = 104, .name = 112, .firstlineno = 40, .linetable = 120},
    .object = {.tp_flags = 168},
    .unicode = {.state = 32, .ascii_data = 48, .compact_data = 72},
    .instance_dict = InstanceDictModel::DictOffset,
    .dict = {.ma_used = 16,
             .ma_keys = 32,
             .ma_values = 40,
             .dk_size = 8,
             .dk_nentries = 32,
             .dk_indices = 40,
             .entry_size = 24},
    .type = {.tp_dictoffset = 288, .ht_cached_keys = 872},
    .long_int = {.ob_size = 16, .ob_digit = 24},
    .module = {.md_dict = 16},
};

} // namespace cpuprof::python
