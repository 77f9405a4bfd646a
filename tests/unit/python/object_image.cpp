#include "object_image.hpp"

#include <algorithm>
#include <cstring>

namespace cpuprof::test {

namespace {

constexpr std::uint32_t kCompact = 1U << 5;
constexpr std::uint32_t kAscii = 1U << 6;
constexpr std::uint32_t kReady = 1U << 7; // up to 3.11
constexpr unsigned kDigitBits = 30;
constexpr std::size_t kTypeSize = 1024; // past ht_cached_keys of every version
constexpr RemoteAddr kGap = 0x1000;     // unmapped bytes between two objects
constexpr std::uint64_t kInlineValuesFlag = 1U << 2;
constexpr std::uint64_t kManagedDictFlag = 1U << 4;
constexpr std::uint64_t kHeapTypeFlag = 1U << 9;
constexpr std::size_t kPreHeader = 32;        // managed weakref and dict pointers (3.11+)
constexpr std::int64_t kPlainDictOffset = 16; // __dict__ right after PyObject (<=3.10)

std::uint8_t log2_of(std::size_t power_of_two) {
    std::uint8_t log2 = 0;
    while ((std::size_t{1} << log2) < power_of_two) {
        ++log2;
    }
    return log2;
}

} // namespace

ObjectImage::ObjectImage(const python::PyOffsets& offsets)
    : offsets_(offsets) {
    str_type_ = type("str", 0, 0);
    int_type_ = type("int", 0, 0);
}

RemoteAddr ObjectImage::field(RemoteAddr base, python::Offset offset) const {
    return base + static_cast<RemoteAddr>(offset);
}

RemoteAddr ObjectImage::allocate(std::size_t size) {
    const RemoteAddr at = next_;
    memory_.map(at, size);
    next_ += (size + kGap + 15) & ~RemoteAddr{15};
    return at;
}

RemoteAddr ObjectImage::str(std::u32string_view text) {
    const char32_t widest = text.empty() ? 0 : *std::max_element(text.begin(), text.end());
    const bool ascii = widest < 0x80;
    const std::size_t kind = widest < 0x100 ? 1 : widest < 0x10000 ? 2 : 4;
    const auto& u = offsets_.unicode;
    const auto data = static_cast<std::size_t>(ascii ? u.ascii_data : u.compact_data);
    const RemoteAddr at = allocate(data + (text.size() + 1) * kind);
    memory_.put<std::int64_t>(at, 1);
    memory_.put(at + 8, str_type_);
    memory_.put<std::int64_t>(field(at, u.length), static_cast<std::int64_t>(text.size()));
    memory_.put<std::int64_t>(at + 24, -1); // hash not computed yet
    std::uint32_t state = (static_cast<std::uint32_t>(kind) << 2) | kCompact;
    state |= (ascii ? kAscii : 0) | (offsets_.minor <= 11 ? kReady : 0);
    memory_.put(field(at, u.state), state);
    for (std::size_t i = 0; i < text.size(); ++i) {
        const std::uint32_t cp = text[i];
        memory_.write(at + data + i * kind, &cp, kind); // little-endian: low bytes first
    }
    return at;
}

RemoteAddr ObjectImage::ascii(std::string_view text) {
    return str(std::u32string(text.begin(), text.end()));
}

RemoteAddr ObjectImage::int_digits(const std::vector<std::uint32_t>& digits, bool negative) {
    const auto& l = offsets_.long_int;
    const RemoteAddr at = allocate(static_cast<std::size_t>(l.ob_digit) +
                                   std::max<std::size_t>(digits.size(), 1) * 4);
    memory_.put<std::int64_t>(at, 1);
    memory_.put(at + 8, int_type_);
    const auto count = static_cast<std::int64_t>(digits.size());
    if (l.lv_tag >= 0) {
        const std::uint64_t sign = digits.empty() ? 1 : negative ? 2 : 0;
        memory_.put(field(at, l.lv_tag), (static_cast<std::uint64_t>(count) << 3) | sign);
    } else {
        memory_.put(field(at, l.ob_size), negative ? -count : count);
    }
    for (std::size_t i = 0; i < digits.size(); ++i) {
        memory_.put(field(at, l.ob_digit) + i * 4, digits[i]);
    }
    return at;
}

RemoteAddr ObjectImage::int_value(std::uint64_t value) {
    std::vector<std::uint32_t> digits;
    for (; value != 0; value >>= kDigitBits) {
        digits.push_back(static_cast<std::uint32_t>(value & ((1U << kDigitBits) - 1)));
    }
    return int_digits(digits);
}

RemoteAddr ObjectImage::type(const std::string& name,
                             std::uint64_t flags,
                             std::int64_t dictoffset,
                             RemoteAddr cached_keys) {
    const RemoteAddr text = allocate(name.size() + 1);
    memory_.write(text, name.c_str(), name.size() + 1);
    const RemoteAddr at = allocate(kTypeSize);
    memory_.put<std::int64_t>(at, 1);
    memory_.put(field(at, offsets_.object.tp_name), text);
    memory_.put(field(at, offsets_.object.tp_flags), flags);
    memory_.put(field(at, offsets_.type.tp_dictoffset), dictoffset);
    memory_.put(field(at, offsets_.type.ht_cached_keys), cached_keys);
    return at;
}

RemoteAddr ObjectImage::object(RemoteAddr type, std::size_t size, std::size_t pre_header) {
    const RemoteAddr at = allocate(pre_header + size) + pre_header;
    memory_.put<std::int64_t>(at, 1);
    memory_.put(at + 8, type);
    return at;
}

RemoteAddr ObjectImage::none() {
    if (none_ == 0) {
        none_ = object(type("NoneType", 0, 0), 16);
    }
    return none_;
}

RemoteAddr ObjectImage::keys(const std::vector<python::DictItem>& items, KeysKind kind) {
    const auto& d = offsets_.dict;
    std::size_t slots = 8;
    while (slots * 2 / 3 < items.size()) {
        slots *= 2;
    }
    const std::size_t usable = slots * 2 / 3;
    const std::size_t width = slots <= 0xff ? 1 : slots <= 0xffff ? 2 : 4;
    const bool old_layout = d.dk_size >= 0;
    const bool general = old_layout || kind == KeysKind::General;
    const auto entry_size = static_cast<std::size_t>(general ? d.entry_size : d.unicode_entry_size);
    const std::size_t index_bytes = slots * width;
    const auto header = static_cast<std::size_t>(d.dk_indices);
    const RemoteAddr at = allocate(header + index_bytes + usable * entry_size);
    memory_.put<std::int64_t>(at, 1);
    if (old_layout) {
        memory_.put(field(at, d.dk_size), static_cast<std::int64_t>(slots));
    } else {
        memory_.put(field(at, d.dk_log2_size), log2_of(slots));
        memory_.put(field(at, d.dk_log2_index_bytes), log2_of(index_bytes));
        memory_.put(field(at, d.dk_kind), static_cast<std::uint8_t>(kind));
    }
    memory_.put(field(at, d.dk_nentries), static_cast<std::int64_t>(items.size()));
    // The index table is not read; fill it as an empty table would be (DKIX_EMPTY).
    const std::vector<std::byte> empty(index_bytes, std::byte{0xff});
    memory_.write(at + header, empty.data(), empty.size());
    const RemoteAddr entries = at + header + index_bytes;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const RemoteAddr entry = entries + i * entry_size;
        if (general) {
            memory_.put<std::int64_t>(entry, static_cast<std::int64_t>(items[i].key * 31));
        }
        const RemoteAddr key_at = entry + entry_size - 16;
        memory_.put(key_at, items[i].key);
        memory_.put(key_at + 8, kind == KeysKind::Split ? RemoteAddr{0} : items[i].value);
    }
    return at;
}

RemoteAddr ObjectImage::values(const std::vector<RemoteAddr>& values) {
    const auto& d = offsets_.dict;
    // Up to 3.10 ma_values is a bare array; 3.11 and 3.12 keep the insertion order in a prefix
    // before the array, 3.13 a header of its own (capacity, valid) before it.
    const std::size_t before = d.values > 0    ? static_cast<std::size_t>(d.values)
                               : d.values == 0 ? 8
                                               : 0;
    const RemoteAddr region = allocate(before + std::max<std::size_t>(values.size(), 1) * 8);
    const RemoteAddr at = d.values > 0 ? region : region + before;
    const RemoteAddr array = d.values > 0 ? at + static_cast<RemoteAddr>(d.values) : at;
    if (d.values_capacity >= 0) {
        memory_.put(field(at, d.values_capacity), static_cast<std::uint8_t>(values.size()));
        memory_.put(field(at, d.values_valid), std::uint8_t{1});
    }
    for (std::size_t i = 0; i < values.size(); ++i) {
        memory_.put(array + i * 8, values[i]);
    }
    return at;
}

RemoteAddr ObjectImage::dict(RemoteAddr keys, RemoteAddr values) {
    const auto& d = offsets_.dict;
    const RemoteAddr at = allocate(48);
    memory_.put<std::int64_t>(at, 1);
    memory_.put(field(at, d.ma_keys), keys);
    memory_.put(field(at, d.ma_values), values);
    return at;
}

RemoteAddr ObjectImage::dict(const std::vector<python::DictItem>& items, bool unicode) {
    return dict(keys(items, unicode ? KeysKind::Unicode : KeysKind::General));
}

ObjectImage::HeapClass ObjectImage::heap_class(const std::string& name,
                                               const std::vector<RemoteAddr>& attr_names) {
    using python::InstanceDictModel;
    std::vector<python::DictItem> items;
    for (RemoteAddr key : attr_names) {
        items.push_back({key, 0});
    }
    HeapClass cls{0, keys(items, KeysKind::Split), attr_names};
    std::uint64_t flags = kHeapTypeFlag;
    std::int64_t dictoffset = kPlainDictOffset;
    if (offsets_.instance_dict != InstanceDictModel::DictOffset) {
        flags |= kManagedDictFlag;
        dictoffset = -1;
    }
    if (offsets_.instance_dict == InstanceDictModel::InlineValues) {
        flags |= kInlineValuesFlag;
    }
    cls.type = type(name, flags, dictoffset, cls.keys);
    return cls;
}

RemoteAddr ObjectImage::instance(const HeapClass& cls,
                                 const std::vector<RemoteAddr>& values,
                                 bool materialized) {
    using python::InstanceDictModel;
    std::vector<python::DictItem> items;
    for (std::size_t i = 0; i < values.size() && i < cls.names.size(); ++i) {
        if (values[i] != 0) {
            items.push_back({cls.names[i], values[i]});
        }
    }
    const RemoteAddr own_dict = materialized ? dict(items) : 0;
    const auto& inst = offsets_.instance;
    switch (offsets_.instance_dict) {
    case InstanceDictModel::DictOffset: {
        const RemoteAddr obj = object(cls.type, 24);
        put_pointer(obj + kPlainDictOffset,
                    materialized ? own_dict : dict(cls.keys, this->values(values)));
        return obj;
    }
    case InstanceDictModel::ManagedSplit: {
        const RemoteAddr obj = object(cls.type, 16, kPreHeader);
        if (materialized) {
            put_pointer(obj - static_cast<RemoteAddr>(inst.dict_before), own_dict);
        } else {
            put_pointer(obj - static_cast<RemoteAddr>(inst.values_before), this->values(values));
        }
        return obj;
    }
    case InstanceDictModel::TaggedDictOrValues: {
        const RemoteAddr obj = object(cls.type, 16, kPreHeader);
        put_pointer(obj - static_cast<RemoteAddr>(inst.dict_before),
                    materialized ? own_dict : this->values(values) - 1);
        return obj;
    }
    case InstanceDictModel::InlineValues: {
        const auto& d = offsets_.dict;
        const std::size_t count = std::max<std::size_t>(values.size(), 1);
        const RemoteAddr obj =
            object(cls.type, static_cast<std::size_t>(inst.inline_values + d.values) + count * 8,
                   kPreHeader);
        const RemoteAddr inline_values = field(obj, inst.inline_values);
        memory_.put(field(inline_values, d.values_capacity), static_cast<std::uint8_t>(count));
        memory_.put(field(inline_values, d.values_valid),
                    static_cast<std::uint8_t>(materialized ? 0 : 1));
        for (std::size_t i = 0; i < values.size(); ++i) {
            memory_.put(field(inline_values, d.values) + i * 8, materialized ? 0 : values[i]);
        }
        put_pointer(obj - static_cast<RemoteAddr>(inst.dict_before), own_dict);
        return obj;
    }
    }
    return 0;
}

} // namespace cpuprof::test
