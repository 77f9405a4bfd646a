#pragma once

#include <cstdint>

namespace cpuprof::python {

// Offsets of the object layouts that reading thread names needs (dicts, instance attributes, ints,
// modules). Kept apart from offsets.hpp, which includes this file, so each header stays readable.

/// A field offset in bytes; kAbsent when the version has no such field.
using Offset = std::int32_t;
inline constexpr Offset kAbsent = -1;

/// Where a heap type's instances keep their attributes.
enum class InstanceDictModel : std::uint8_t {
    DictOffset,         ///< <=3.10: a dict pointer at tp_dictoffset
    ManagedSplit,       ///< 3.11: dict pointer and values pointer in the pre-header
    TaggedDictOrValues, ///< 3.12: one pre-header word, a values pointer when its low bit is set
    InlineValues, ///< 3.13: managed dict pointer in the pre-header, values inline in the object
};

/// PyDictObject, PyDictKeysObject (struct _dictkeysobject) and PyDictValues.
struct DictOffsets {
    Offset ma_used = kAbsent;
    Offset ma_keys = kAbsent;
    Offset ma_values = kAbsent;
    Offset dk_size = kAbsent;             ///< <=3.10: Py_ssize_t, the index table's slot count
    Offset dk_log2_size = kAbsent;        ///< 3.11+: uint8_t
    Offset dk_log2_index_bytes = kAbsent; ///< 3.11+: uint8_t, log2 of the index table's bytes
    Offset dk_kind = kAbsent;             ///< 3.11+: uint8_t, general / unicode / split
    Offset dk_nentries = kAbsent;
    Offset dk_indices = kAbsent; ///< start of the index table; the entries follow it
    /// PyDictValues.values (3.13 has a header before it); kAbsent up to 3.10, where ma_values
    /// points at the array itself.
    Offset values = kAbsent;
    Offset values_capacity = kAbsent;    ///< 3.13: uint8_t PyDictValues.capacity
    Offset values_valid = kAbsent;       ///< 3.13: uint8_t PyDictValues.valid
    Offset entry_size = kAbsent;         ///< sizeof(PyDictKeyEntry) {hash, key, value}
    Offset unicode_entry_size = kAbsent; ///< 3.11+: sizeof(PyDictUnicodeEntry) {key, value}
};

/// PyTypeObject / PyHeapTypeObject fields (tp_flags is in ObjectOffsets).
struct TypeOffsets {
    Offset tp_dictoffset = kAbsent;
    Offset ht_cached_keys = kAbsent; ///< the shared keys of a heap type's instance dicts
};

/// The instance pre-header (3.11+) and inline values (3.13), as distances from the object start.
struct InstanceOffsets {
    Offset dict_before = kAbsent;   ///< the managed dict pointer sits this many bytes before
    Offset values_before = kAbsent; ///< 3.11: the values pointer sits this many bytes before
    Offset inline_values = kAbsent; ///< 3.13: PyDictValues inside the object, after PyObject
};

/// PyLongObject: a sign and size, then 30-bit digits.
struct LongOffsets {
    Offset ob_size = kAbsent; ///< <=3.11: signed digit count (PyVarObject.ob_size)
    Offset lv_tag = kAbsent;  ///< 3.12+: long_value.lv_tag, digit count << 3 | sign
    Offset ob_digit = kAbsent;
};

/// PyModuleObject.
struct ModuleOffsets {
    Offset md_dict = kAbsent;
};

} // namespace cpuprof::python
