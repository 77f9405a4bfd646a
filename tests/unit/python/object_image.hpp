#pragma once

#include "cpuprof/process/buffer_memory.hpp"
#include "cpuprof/python/offsets.hpp"
#include "cpuprof/python/remote_dict.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cpuprof::test {

/// Lays out CPython objects (str, int, dicts, types, instances) as one version does, in a
/// synthetic memory image. Every object gets its own region that ends where the object ends, so
/// a read past an object fails as it would on a live process.
class ObjectImage {
  public:
    enum class KeysKind { General, Unicode, Split };

    explicit ObjectImage(const python::PyOffsets& offsets);

    [[nodiscard]] process::BufferMemory& memory() noexcept { return memory_; }
    [[nodiscard]] const python::PyOffsets& offsets() const noexcept { return offsets_; }

    /// A compact str of the narrowest kind that holds `text` (ASCII, Latin-1, UCS-2 or UCS-4).
    RemoteAddr str(std::u32string_view text);
    RemoteAddr ascii(std::string_view text);

    /// An int with these 30-bit digits (least significant first).
    RemoteAddr int_digits(const std::vector<std::uint32_t>& digits, bool negative = false);
    RemoteAddr int_value(std::uint64_t value);

    /// A heap type: tp_name, tp_flags, tp_dictoffset and ht_cached_keys.
    RemoteAddr type(const std::string& name,
                    std::uint64_t flags,
                    std::int64_t dictoffset,
                    RemoteAddr cached_keys = 0);
    /// An object of `type`: `size` bytes with `pre_header` bytes mapped before it.
    RemoteAddr object(RemoteAddr type, std::size_t size, std::size_t pre_header = 0);
    /// The None object (its type is named "NoneType").
    RemoteAddr none();

    /// A keys object holding `items` in this order; a 0 key makes a deleted slot. Split tables
    /// keep no values in their entries. Before 3.11 every table has {hash, key, value} entries.
    RemoteAddr keys(const std::vector<python::DictItem>& items, KeysKind kind);
    /// A PyDictValues holding `values` (3.13: with capacity = values.size() and valid set).
    RemoteAddr values(const std::vector<RemoteAddr>& values);
    /// A dict object over a keys object and, for split tables, a PyDictValues.
    RemoteAddr dict(RemoteAddr keys, RemoteAddr values = 0);
    /// A combined dict of `items` with str-keyed (unicode) entries on 3.11+ when `unicode`.
    RemoteAddr dict(const std::vector<python::DictItem>& items, bool unicode = true);

    /// A heap class without __slots__ whose instances share the keys `attr_names`.
    struct HeapClass {
        RemoteAddr type = 0;
        RemoteAddr keys = 0;
        std::vector<RemoteAddr> names;
    };
    HeapClass heap_class(const std::string& name, const std::vector<RemoteAddr>& attr_names);
    /// An instance of `cls` whose attributes are `values` (indexed like the class's names, 0 for
    /// unset), kept as the version keeps them: a split __dict__ (<=3.10), a values array in the
    /// pre-header (3.11, 3.12) or inline values (3.13); with `materialized`, in a combined dict
    /// of its own instead, as after `vars(obj)` or an attribute the shared keys cannot take.
    RemoteAddr instance(const HeapClass& cls,
                        const std::vector<RemoteAddr>& values,
                        bool materialized = false);

    void put_pointer(RemoteAddr at, RemoteAddr value) { memory_.put(at, value); }
    /// Maps a region of `size` zero bytes and returns its address.
    RemoteAddr allocate(std::size_t size);

  private:
    RemoteAddr field(RemoteAddr base, python::Offset offset) const;

    process::BufferMemory memory_;
    python::PyOffsets offsets_;
    RemoteAddr next_ = 0x10000000;
    RemoteAddr str_type_ = 0;
    RemoteAddr int_type_ = 0;
    RemoteAddr none_ = 0;
};

} // namespace cpuprof::test
