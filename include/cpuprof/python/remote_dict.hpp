#pragma once

#include "cpuprof/process/remote_memory.hpp"
#include "cpuprof/python/offsets.hpp"

#include <cstddef>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace cpuprof::python {

/// Most entry slots read from one dict (deleted slots count too): sys.modules of a very large
/// application stays well under it, a corrupt keys object cannot make a walk run away.
inline constexpr std::size_t kMaxDictEntries = std::size_t{1} << 16;

/// One live item of a dict: its key and value objects, both non-null.
struct DictItem {
    RemoteAddr key = 0;
    RemoteAddr value = 0;
};

/// Where a dict's items live: a keys object (struct _dictkeysobject) and, for a split table, a
/// separate array of value pointers indexed like the keys' entries.
struct DictStorage {
    RemoteAddr keys = 0;
    RemoteAddr values = 0; ///< address of the first value pointer; 0 for a combined table
    std::size_t value_count = std::numeric_limits<std::size_t>::max(); ///< slots in `values`
};

/// Reads ma_keys and ma_values of the PyDictObject at `dict`; nullopt when the read fails or the
/// dict has no keys object.
[[nodiscard]] std::optional<DictStorage>
dict_storage(const process::RemoteMemory& memory, const PyOffsets& offsets, RemoteAddr dict);

/// Calls `visit` with each live item in insertion order, reading at most `max_entries` slots;
/// `visit` returns false to stop. Returns false when the keys object cannot be read or makes no
/// sense (size, kind or entry count out of range) or a read of the entries fails part-way.
bool for_each_item(const process::RemoteMemory& memory,
                   const PyOffsets& offsets,
                   const DictStorage& storage,
                   const std::function<bool(const DictItem&)>& visit,
                   std::size_t max_entries = kMaxDictEntries);

/// The values stored under the str keys `names` (ASCII), in one pass over the dict: element i is
/// 0 when names[i] is absent. Returns nullopt when the dict cannot be read.
[[nodiscard]] std::optional<std::vector<RemoteAddr>>
find_str_keys(const process::RemoteMemory& memory,
              const PyOffsets& offsets,
              const DictStorage& storage,
              std::span<const std::string_view> names);

/// The value stored under the str key `name` (ASCII); 0 when absent or unreadable.
[[nodiscard]] RemoteAddr find_str_key(const process::RemoteMemory& memory,
                                      const PyOffsets& offsets,
                                      const DictStorage& storage,
                                      std::string_view name);

/// find_str_key on the dict object at `dict`.
[[nodiscard]] RemoteAddr dict_get_str(const process::RemoteMemory& memory,
                                      const PyOffsets& offsets,
                                      RemoteAddr dict,
                                      std::string_view name);

/// True when `object` is a compact ASCII str whose text is `ascii`.
[[nodiscard]] bool str_equals(const process::RemoteMemory& memory,
                              const PyOffsets& offsets,
                              RemoteAddr object,
                              std::string_view ascii);

} // namespace cpuprof::python
