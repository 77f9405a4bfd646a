#include "cpuprof/python/remote_dict.hpp"

#include "cpuprof/python/unicode.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

namespace cpuprof::python {

namespace {

// dk_kind (3.11+): general tables keep {hash, key, value} entries, unicode and split tables
// {key, value}. In both the key and value are the last two pointers of the entry.
constexpr unsigned kKeysGeneral = 0;
constexpr unsigned kKeysSplit = 2;

// Entries (and split values) are read this many slots at a time.
constexpr std::size_t kChunk = 128;
// Both keys headers (40 bytes up to 3.10, 32 after) and the str header fit in this.
constexpr std::size_t kMaxHeader = 128;
// Names looked up are attribute and module names; longer keys are never compared byte by byte.
constexpr std::size_t kMaxName = 64;
// Index tables larger than 2^31 slots would need tens of GiB of entries: a corrupt header.
constexpr unsigned kMaxLog2Size = 31;
constexpr unsigned kMaxLog2IndexWidth = 3;

template <typename T> T load(const std::byte* from) {
    T value;
    std::memcpy(&value, from, sizeof(T));
    return value;
}

bool in_header(Offset offset, std::size_t width, std::size_t header_size) {
    return offset >= 0 && static_cast<std::size_t>(offset) + width <= header_size;
}

unsigned byte_at(const std::byte* header, Offset offset) {
    return std::to_integer<unsigned>(header[offset]);
}

RemoteAddr at(RemoteAddr base, Offset offset) {
    return base + static_cast<RemoteAddr>(offset);
}

/// Where a keys object's entries start, how large each is and how many slots are used.
struct KeysLayout {
    RemoteAddr entries = 0;
    std::size_t entry_size = 0;
    std::size_t count = 0;
};

std::optional<KeysLayout>
read_keys(const process::RemoteMemory& memory, const PyOffsets& offsets, RemoteAddr keys) {
    const auto& d = offsets.dict;
    if (keys == 0 || !in_header(d.dk_indices, 0, kMaxHeader) ||
        !in_header(d.dk_nentries, sizeof(std::int64_t), static_cast<std::size_t>(d.dk_indices)) ||
        d.entry_size < 2 * static_cast<Offset>(sizeof(RemoteAddr))) {
        return std::nullopt;
    }
    const auto header_size = static_cast<std::size_t>(d.dk_indices);
    std::array<std::byte, kMaxHeader> header{};
    if (memory.read(keys, header.data(), header_size) != 0) {
        return std::nullopt;
    }
    std::uint64_t slots = 0;
    std::uint64_t index_bytes = 0;
    auto entry_size = static_cast<std::size_t>(d.entry_size);
    if (d.dk_size >= 0) {
        // <=3.10: the width of an index follows from the slot count.
        if (!in_header(d.dk_size, sizeof(std::int64_t), header_size)) {
            return std::nullopt;
        }
        const auto size = load<std::int64_t>(header.data() + d.dk_size);
        if (size < 1 || size > (std::int64_t{1} << kMaxLog2Size) ||
            !std::has_single_bit(static_cast<std::uint64_t>(size))) {
            return std::nullopt;
        }
        slots = static_cast<std::uint64_t>(size);
        const std::uint64_t width = slots <= 0xff ? 1 : slots <= 0xffff ? 2 : 4;
        index_bytes = slots * width;
    } else {
        if (!in_header(d.dk_log2_size, 1, header_size) ||
            !in_header(d.dk_log2_index_bytes, 1, header_size) ||
            !in_header(d.dk_kind, 1, header_size)) {
            return std::nullopt;
        }
        const auto log2_size = byte_at(header.data(), d.dk_log2_size);
        const auto log2_index_bytes = byte_at(header.data(), d.dk_log2_index_bytes);
        const auto kind = byte_at(header.data(), d.dk_kind);
        if (log2_size > kMaxLog2Size || log2_index_bytes < log2_size ||
            log2_index_bytes > log2_size + kMaxLog2IndexWidth || kind > kKeysSplit) {
            return std::nullopt;
        }
        if (kind != kKeysGeneral) {
            if (d.unicode_entry_size < 2 * static_cast<Offset>(sizeof(RemoteAddr))) {
                return std::nullopt;
            }
            entry_size = static_cast<std::size_t>(d.unicode_entry_size);
        }
        slots = std::uint64_t{1} << log2_size;
        index_bytes = std::uint64_t{1} << log2_index_bytes;
    }
    const auto nentries = load<std::int64_t>(header.data() + d.dk_nentries);
    // Entries fill at most two thirds of the slots; more than all of them means this is not a
    // keys object.
    if (nentries < 0 || static_cast<std::uint64_t>(nentries) > slots) {
        return std::nullopt;
    }
    return KeysLayout{keys + header_size + index_bytes, entry_size,
                      static_cast<std::size_t>(nentries)};
}

/// The length of `object` when it is a compact, ready ASCII str.
std::optional<std::size_t>
ascii_length(const process::RemoteMemory& memory, const PyOffsets& offsets, RemoteAddr object) {
    const auto& u = offsets.unicode;
    if (!in_header(u.ascii_data, 0, kMaxHeader) ||
        !in_header(u.state, sizeof(std::uint32_t), static_cast<std::size_t>(u.ascii_data)) ||
        !in_header(u.length, sizeof(std::int64_t), static_cast<std::size_t>(u.ascii_data))) {
        return std::nullopt;
    }
    std::array<std::byte, kMaxHeader> header{};
    if (memory.read(object, header.data(), static_cast<std::size_t>(u.ascii_data)) != 0) {
        return std::nullopt;
    }
    const StrState state =
        decode_str_state(load<std::uint32_t>(header.data() + u.state), offsets.minor);
    const auto length = load<std::int64_t>(header.data() + u.length);
    if (!state.readable || !state.ascii || length < 0) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(length);
}

bool ascii_text_equals(const process::RemoteMemory& memory,
                       const PyOffsets& offsets,
                       RemoteAddr object,
                       std::string_view ascii) {
    std::array<char, kMaxName> text{};
    return ascii.size() <= text.size() &&
           memory.read(at(object, offsets.unicode.ascii_data), text.data(), ascii.size()) == 0 &&
           std::string_view(text.data(), ascii.size()) == ascii;
}

} // namespace

std::optional<DictStorage>
dict_storage(const process::RemoteMemory& memory, const PyOffsets& offsets, RemoteAddr dict) {
    const auto& d = offsets.dict;
    if (dict == 0 || d.ma_keys < 0 || d.ma_values < 0) {
        return std::nullopt;
    }
    RemoteAddr keys = 0;
    RemoteAddr values = 0;
    const std::array<process::ReadRequest, 2> requests = {{
        {at(dict, d.ma_keys), &keys, sizeof keys},
        {at(dict, d.ma_values), &values, sizeof values},
    }};
    if (memory.read_batch(requests) != 0 || keys == 0) {
        return std::nullopt;
    }
    DictStorage storage{keys, 0};
    if (values != 0) {
        storage.values = d.values >= 0 ? at(values, d.values) : values;
        // 3.13 values arrays carry their capacity; a keys object shared with other instances may
        // have grown past it.
        std::uint8_t capacity = 0;
        if (d.values_capacity >= 0) {
            if (!memory.try_read(at(values, d.values_capacity), capacity)) {
                return std::nullopt;
            }
            storage.value_count = capacity;
        }
    }
    return storage;
}

bool for_each_item(const process::RemoteMemory& memory,
                   const PyOffsets& offsets,
                   const DictStorage& storage,
                   const std::function<bool(const DictItem&)>& visit,
                   std::size_t max_entries) {
    const auto layout = read_keys(memory, offsets, storage.keys);
    if (!layout) {
        return false;
    }
    std::size_t count = std::min(layout->count, max_entries);
    if (storage.values != 0) {
        count = std::min(count, storage.value_count);
    }
    const std::size_t entry_size = layout->entry_size;
    const std::size_t key_at = entry_size - 2 * sizeof(RemoteAddr);
    const std::size_t value_at = entry_size - sizeof(RemoteAddr);
    std::vector<std::byte> entries(std::min(count, kChunk) * entry_size);
    std::array<RemoteAddr, kChunk> values{};
    for (std::size_t start = 0; start < count; start += kChunk) {
        const std::size_t n = std::min(kChunk, count - start);
        std::array<process::ReadRequest, 2> requests = {{
            {layout->entries + start * entry_size, entries.data(), n * entry_size},
            {storage.values + start * sizeof(RemoteAddr), values.data(), n * sizeof(RemoteAddr)},
        }};
        const std::size_t request_count = storage.values != 0 ? 2 : 1;
        if (memory.read_batch(std::span(requests).first(request_count)) != 0) {
            return false;
        }
        for (std::size_t i = 0; i < n; ++i) {
            const std::byte* entry = entries.data() + i * entry_size;
            const auto key = load<RemoteAddr>(entry + key_at);
            const auto value = storage.values != 0 ? values[i] : load<RemoteAddr>(entry + value_at);
            if (key != 0 && value != 0 && !visit(DictItem{key, value})) {
                return true;
            }
        }
    }
    return true;
}

std::optional<std::vector<RemoteAddr>> find_str_keys(const process::RemoteMemory& memory,
                                                     const PyOffsets& offsets,
                                                     const DictStorage& storage,
                                                     std::span<const std::string_view> names) {
    std::vector<RemoteAddr> found(names.size(), 0);
    std::size_t missing = names.size();
    const bool readable = for_each_item(memory, offsets, storage, [&](const DictItem& item) {
        const auto length = ascii_length(memory, offsets, item.key);
        if (!length) {
            return true;
        }
        for (std::size_t i = 0; i < names.size(); ++i) {
            if (found[i] == 0 && names[i].size() == *length &&
                ascii_text_equals(memory, offsets, item.key, names[i])) {
                found[i] = item.value;
                --missing;
                break;
            }
        }
        return missing > 0;
    });
    if (!readable) {
        return std::nullopt;
    }
    return found;
}

RemoteAddr find_str_key(const process::RemoteMemory& memory,
                        const PyOffsets& offsets,
                        const DictStorage& storage,
                        std::string_view name) {
    const auto found = find_str_keys(memory, offsets, storage, std::span(&name, 1));
    return found ? found->front() : 0;
}

RemoteAddr dict_get_str(const process::RemoteMemory& memory,
                        const PyOffsets& offsets,
                        RemoteAddr dict,
                        std::string_view name) {
    const auto storage = dict_storage(memory, offsets, dict);
    return storage ? find_str_key(memory, offsets, *storage, name) : 0;
}

bool str_equals(const process::RemoteMemory& memory,
                const PyOffsets& offsets,
                RemoteAddr object,
                std::string_view ascii) {
    const auto length = ascii_length(memory, offsets, object);
    return length && *length == ascii.size() && ascii_text_equals(memory, offsets, object, ascii);
}

} // namespace cpuprof::python
