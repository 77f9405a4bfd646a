// Checks every static offset table against the DWARF of the pyenv interpreter of its version.
#include "dwarf_types.hpp"
#include "pyenv.hpp"

#include "cpuprof/python/debug_offsets.hpp"
#include "cpuprof/python/offsets.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <string>
#include <vector>

using namespace cpuprof::python;
using cpuprof::test::DwarfTypes;

namespace {

// Where one field of PyOffsets lives in a CPython version; `path` is null when the version has
// no such field, and then the table must say kAbsent. Values that come from macros rather than
// struct members (pre-header distances) cannot be checked here and say why in `unchecked`.
struct FieldSpec {
    const char* field;
    Offset value;
    const char* type;
    const char* path;
    const char* unchecked = nullptr;
};

const char* when(bool present, const char* path) {
    return present ? path : nullptr;
}

// Every Offset of the thread-walk part of PyOffsets except the read sizes and the unicode data
// offsets, which are checked as sizes below.
std::vector<FieldSpec> field_specs(const PyOffsets& o) {
    const int m = o.minor;
    const char* frame_type = m <= 10 ? "PyFrameObject" : "_PyInterpreterFrame";
    const char* code_field = m <= 12 ? "f_code" : "f_executable";
    const char* instr_field = m <= 12 ? "prev_instr" : "instr_ptr";
    return {
        {"runtime.interpreters_head", o.runtime.interpreters_head, "_PyRuntimeState",
         "interpreters.head"},
        {"runtime.tstate_current", o.runtime.tstate_current, "_PyRuntimeState",
         when(m <= 11, "gilstate.tstate_current")},
        {"interp.next", o.interp.next, "PyInterpreterState", "next"},
        {"interp.threads_head", o.interp.threads_head, "PyInterpreterState",
         m <= 10 ? "tstate_head" : "threads.head"},
        {"interp.id", o.interp.id, "PyInterpreterState", "id"},
        {"interp.modules", o.interp.modules, "PyInterpreterState",
         m <= 11 ? "modules" : "imports.modules"},
        {"interp.ceval_gil", o.interp.ceval_gil, "PyInterpreterState", when(m >= 12, "ceval.gil")},
        {"gil.last_holder", o.gil.last_holder, "struct _gil_runtime_state",
         when(m >= 12, "last_holder")},
        {"gil.locked", o.gil.locked, "struct _gil_runtime_state", when(m >= 12, "locked")},
        {"thread.prev", o.thread.prev, "PyThreadState", "prev"},
        {"thread.next", o.thread.next, "PyThreadState", "next"},
        {"thread.interp", o.thread.interp, "PyThreadState", "interp"},
        {"thread.frame", o.thread.frame, "PyThreadState", when(m <= 10, "frame")},
        {"thread.cframe", o.thread.cframe, "PyThreadState", when(m == 11 || m == 12, "cframe")},
        {"thread.current_frame", o.thread.current_frame, "PyThreadState",
         when(m >= 13, "current_frame")},
        {"thread.thread_id", o.thread.thread_id, "PyThreadState", "thread_id"},
        {"thread.native_thread_id", o.thread.native_thread_id, "PyThreadState",
         when(m >= 11, "native_thread_id")},
        {"cframe.current_frame", o.cframe.current_frame, "_PyCFrame",
         when(m == 11 || m == 12, "current_frame")},
        {"frame.previous", o.frame.previous, frame_type, m <= 10 ? "f_back" : "previous"},
        {"frame.code", o.frame.code, frame_type, code_field},
        {"frame.lasti", o.frame.lasti, frame_type, when(m <= 10, "f_lasti")},
        {"frame.instr_ptr", o.frame.instr_ptr, frame_type, when(m >= 11, instr_field)},
        {"frame.owner", o.frame.owner, frame_type, when(m >= 11, "owner")},
        {"frame.is_entry", o.frame.is_entry, frame_type, when(m == 11, "is_entry")},
        {"code.filename", o.code.filename, "PyCodeObject", "co_filename"},
        {"code.name", o.code.name, "PyCodeObject", "co_name"},
        {"code.qualname", o.code.qualname, "PyCodeObject", when(m >= 11, "co_qualname")},
        {"code.firstlineno", o.code.firstlineno, "PyCodeObject", "co_firstlineno"},
        {"code.linetable", o.code.linetable, "PyCodeObject", m <= 9 ? "co_lnotab" : "co_linetable"},
        {"code.code_adaptive", o.code.code_adaptive, "PyCodeObject",
         when(m >= 11, "co_code_adaptive")},
        {"object.ob_type", o.object.ob_type, "PyObject", "ob_type"},
        {"object.tp_name", o.object.tp_name, "PyTypeObject", "tp_name"},
        {"object.tp_flags", o.object.tp_flags, "PyTypeObject", "tp_flags"},
        {"object.bytes_size", o.object.bytes_size, "PyBytesObject", "ob_base.ob_size"},
        {"object.bytes_data", o.object.bytes_data, "PyBytesObject", "ob_sval"},
        {"unicode.length", o.unicode.length, "PyASCIIObject", "length"},
        {"unicode.state", o.unicode.state, "PyASCIIObject", "state"},
    };
}

// The object layouts used to read thread names (object_offsets.hpp).
std::vector<FieldSpec> object_field_specs(const PyOffsets& o) {
    const int m = o.minor;
    const char* keys = "struct _dictkeysobject";
    const char* values = "struct _dictvalues";
    const char* macro = "a macro distance, not a struct member";
    return {
        {"dict.ma_used", o.dict.ma_used, "PyDictObject", "ma_used"},
        {"dict.ma_keys", o.dict.ma_keys, "PyDictObject", "ma_keys"},
        {"dict.ma_values", o.dict.ma_values, "PyDictObject", "ma_values"},
        {"dict.dk_size", o.dict.dk_size, keys, when(m <= 10, "dk_size")},
        {"dict.dk_log2_size", o.dict.dk_log2_size, keys, when(m >= 11, "dk_log2_size")},
        {"dict.dk_log2_index_bytes", o.dict.dk_log2_index_bytes, keys,
         when(m >= 11, "dk_log2_index_bytes")},
        {"dict.dk_kind", o.dict.dk_kind, keys, when(m >= 11, "dk_kind")},
        {"dict.dk_nentries", o.dict.dk_nentries, keys, "dk_nentries"},
        {"dict.dk_indices", o.dict.dk_indices, keys, "dk_indices"},
        // Up to 3.10 ma_values points straight at the array, so "values" is 0 by definition.
        {"dict.values", o.dict.values, values, "values",
         m <= 10 ? "ma_values is a bare PyObject** before 3.11" : nullptr},
        {"dict.values_capacity", o.dict.values_capacity, values, when(m >= 13, "capacity")},
        {"dict.values_valid", o.dict.values_valid, values, when(m >= 13, "valid")},
        {"type.tp_dictoffset", o.type.tp_dictoffset, "PyTypeObject", "tp_dictoffset"},
        {"type.ht_cached_keys", o.type.ht_cached_keys, "PyHeapTypeObject", "ht_cached_keys"},
        {"instance.dict_before", o.instance.dict_before, "", "", macro},
        {"instance.values_before", o.instance.values_before, "", "", macro},
        {"instance.inline_values", o.instance.inline_values, "", "",
         "tp_basicsize of the instance's type"},
        {"long_int.ob_size", o.long_int.ob_size, "PyLongObject", when(m <= 11, "ob_base.ob_size")},
        {"long_int.lv_tag", o.long_int.lv_tag, "PyLongObject", when(m >= 12, "long_value.lv_tag")},
        {"long_int.ob_digit", o.long_int.ob_digit, "PyLongObject",
         m <= 11 ? "ob_digit" : "long_value.ob_digit"},
        {"module.md_dict", o.module.md_dict, "PyModuleObject", "md_dict"},
    };
}

// The fields whose bytes a frame or code read must cover (`size` is how much is read).
void check_read_size(const DwarfTypes& dwarf,
                     const std::vector<FieldSpec>& specs,
                     const char* group,
                     Offset size,
                     const char* type) {
    const auto struct_size = dwarf.size_of(type);
    REQUIRE(struct_size);
    CHECK(size > 0);
    CHECK(static_cast<std::uint64_t>(size) <= *struct_size);
    const std::string prefix = std::string(group) + ".";
    for (const auto& spec : specs) {
        if (spec.path == nullptr || !std::string(spec.field).starts_with(prefix)) {
            continue;
        }
        const auto member = dwarf.member(spec.type, spec.path);
        REQUIRE(member);
        INFO(spec.field << " ends at " << member->offset + member->size << ", " << group
                        << ".size is " << size);
        CHECK(member->offset + member->size <= static_cast<std::uint64_t>(size));
    }
}

void check_table(const DwarfTypes& dwarf, const PyOffsets& table) {
    auto specs = field_specs(table);
    const auto object_specs = object_field_specs(table);
    specs.insert(specs.end(), object_specs.begin(), object_specs.end());
    for (const auto& spec : specs) {
        INFO("3." << table.minor << " " << spec.field << " = " << spec.value);
        if (spec.unchecked != nullptr) {
            continue;
        }
        if (spec.path == nullptr) {
            CHECK(spec.value == kAbsent);
            continue;
        }
        const auto member = dwarf.member(spec.type, spec.path);
        INFO("DWARF " << spec.type << "::" << spec.path);
        REQUIRE(member);
        CHECK(static_cast<std::uint64_t>(spec.value) == member->offset);
    }
    CHECK(dwarf.size_of("PyASCIIObject") == static_cast<std::uint64_t>(table.unicode.ascii_data));
    CHECK(dwarf.size_of("PyCompactUnicodeObject") ==
          static_cast<std::uint64_t>(table.unicode.compact_data));
    CHECK(dwarf.size_of("PyDictKeyEntry") == static_cast<std::uint64_t>(table.dict.entry_size));
    if (table.minor >= 11) {
        CHECK(dwarf.size_of("PyDictUnicodeEntry") ==
              static_cast<std::uint64_t>(table.dict.unicode_entry_size));
    } else {
        CHECK(table.dict.unicode_entry_size == kAbsent);
    }
    check_read_size(dwarf, specs, "frame", table.frame.size,
                    table.minor <= 10 ? "PyFrameObject" : "_PyInterpreterFrame");
    check_read_size(dwarf, specs, "code", table.code.size, "PyCodeObject");
    if (table.minor >= 12) {
        CHECK(dwarf.enumerator("FRAME_OWNED_BY_CSTACK") == table.shim_owner);
    } else {
        CHECK(table.shim_owner == -1);
    }
    if (table.minor >= 13) {
        CHECK(dwarf.size_of("_Py_DebugOffsets") == debug_offsets_size(table.minor));
    }
}

} // namespace

TEST_CASE("static offset tables match the DWARF of the pyenv interpreters", "[python][offsets]") {
    // A new PyOffsets member must be added to field_specs() or object_field_specs() above
    // before this passes.
    CHECK(sizeof(PyOffsets) == 276);

    std::vector<std::string> covered;
    for (int minor = 8; minor <= 13; ++minor) {
        const auto python = cpuprof::test::find_pyenv_python(minor);
        if (!python) {
            WARN("Python 3." << minor << " is not installed under pyenv: its table is unchecked");
            continue;
        }
        const auto dwarf = DwarfTypes::open(python->libpython());
        if (!dwarf || !dwarf->size_of("PyThreadState")) {
            WARN(python->libpython() << " has no usable DWARF: 3." << minor << " is unchecked");
            continue;
        }
        const auto* table = static_offsets(3, minor);
        REQUIRE(table != nullptr);
        CHECK(table->minor == minor);
        INFO("checking " << python->libpython());
        check_table(*dwarf, *table);
        covered.push_back(python->version);
    }
    WARN(
        "offset tables checked against DWARF for: " << fmt::format("{}", fmt::join(covered, ", ")));
    CHECK_FALSE(covered.empty());
}
