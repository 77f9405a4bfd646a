#include "cpuprof/python/remote_object.hpp"

#include <array>

namespace cpuprof::python {

namespace {

// tp_flags bits (Include/object.h).
constexpr std::uint64_t kInlineValuesFlag = 1U << 2; // 3.13+
constexpr std::uint64_t kManagedDictFlag = 1U << 4;  // 3.11+
constexpr std::uint64_t kHeapTypeFlag = 1U << 9;

// 3.12 stores a values pointer in the pre-header as `values - 1`, so its low bit tells it from a
// dict pointer (_PyDictOrValues_SetValues).
constexpr RemoteAddr kValuesTag = 1;

// A tp_dictoffset past this is not a field of any real instance.
constexpr std::int64_t kMaxDictOffset = 1 << 20;

// PyLong: 30-bit digits, least significant first. On 3.12+ lv_tag holds the digit count above
// three flag bits whose low two are the sign (0 positive, 1 zero, 2 negative).
constexpr unsigned kDigitBits = 30;
constexpr std::uint32_t kDigitMask = (1U << kDigitBits) - 1;
constexpr std::size_t kMaxDigits = 3; // 90 bits hold any 64-bit value
constexpr unsigned kLvTagCountShift = 3;
constexpr std::uint64_t kLvTagSignMask = 3;
constexpr std::uint64_t kLvTagZero = 1;
constexpr std::uint64_t kLvTagNegative = 2;

RemoteAddr at(RemoteAddr base, Offset offset) {
    return base + static_cast<RemoteAddr>(offset);
}

/// The parts of an object's type that say where its attributes are.
struct TypeInfo {
    std::uint64_t flags = 0;
    std::int64_t dictoffset = 0;
    RemoteAddr cached_keys = 0; ///< ht_cached_keys of a heap type
};

std::optional<TypeInfo>
read_type(const process::RemoteMemory& memory, const PyOffsets& offsets, RemoteAddr object) {
    const auto& t = offsets.type;
    RemoteAddr type = 0;
    if (offsets.object.ob_type < 0 || offsets.object.tp_flags < 0 || t.tp_dictoffset < 0 ||
        !memory.try_read(at(object, offsets.object.ob_type), type) || type == 0) {
        return std::nullopt;
    }
    TypeInfo info;
    const std::array<process::ReadRequest, 2> requests = {{
        {at(type, offsets.object.tp_flags), &info.flags, sizeof info.flags},
        {at(type, t.tp_dictoffset), &info.dictoffset, sizeof info.dictoffset},
    }};
    if (memory.read_batch(requests) != 0) {
        return std::nullopt;
    }
    if ((info.flags & kHeapTypeFlag) != 0 && t.ht_cached_keys >= 0 &&
        !memory.try_read(at(type, t.ht_cached_keys), info.cached_keys)) {
        return std::nullopt;
    }
    return info;
}

std::optional<DictStorage>
dict_at(const process::RemoteMemory& memory, const PyOffsets& offsets, RemoteAddr slot) {
    RemoteAddr dict = 0;
    if (!memory.try_read(slot, dict) || dict == 0) {
        return std::nullopt;
    }
    return dict_storage(memory, offsets, dict);
}

/// Attributes kept as a values array (`values` is the PyDictValues) keyed by the type's keys.
std::optional<DictStorage>
shared_values(const PyOffsets& offsets, const TypeInfo& type, RemoteAddr values) {
    if (type.cached_keys == 0 || values == 0 || offsets.dict.values < 0) {
        return std::nullopt;
    }
    return DictStorage{type.cached_keys, at(values, offsets.dict.values)};
}

std::optional<DictStorage> managed_attributes(const process::RemoteMemory& memory,
                                              const PyOffsets& offsets,
                                              const TypeInfo& type,
                                              RemoteAddr object) {
    const auto& inst = offsets.instance;
    if (inst.dict_before <= 0 || object < static_cast<RemoteAddr>(inst.dict_before)) {
        return std::nullopt;
    }
    const RemoteAddr dict_slot = object - static_cast<RemoteAddr>(inst.dict_before);
    switch (offsets.instance_dict) {
    case InstanceDictModel::ManagedSplit: {
        if (inst.values_before <= 0 || object < static_cast<RemoteAddr>(inst.values_before)) {
            return std::nullopt;
        }
        RemoteAddr dict = 0;
        RemoteAddr values = 0;
        const std::array<process::ReadRequest, 2> requests = {{
            {dict_slot, &dict, sizeof dict},
            {object - static_cast<RemoteAddr>(inst.values_before), &values, sizeof values},
        }};
        if (memory.read_batch(requests) != 0) {
            return std::nullopt;
        }
        if (dict != 0) {
            return dict_storage(memory, offsets, dict);
        }
        return shared_values(offsets, type, values);
    }
    case InstanceDictModel::TaggedDictOrValues: {
        RemoteAddr word = 0;
        if (!memory.try_read(dict_slot, word) || word == 0) {
            return std::nullopt;
        }
        if ((word & kValuesTag) != 0) {
            return shared_values(offsets, type, word + kValuesTag);
        }
        return dict_storage(memory, offsets, word);
    }
    case InstanceDictModel::InlineValues: {
        // A materialised dict takes over from the inline values (which it may still share).
        if (auto storage = dict_at(memory, offsets, dict_slot)) {
            return storage;
        }
        const auto& d = offsets.dict;
        if ((type.flags & kInlineValuesFlag) == 0 || inst.inline_values < 0 ||
            d.values_capacity < 0 || d.values_valid < 0) {
            return std::nullopt;
        }
        const RemoteAddr values = at(object, inst.inline_values);
        std::uint8_t capacity = 0;
        std::uint8_t valid = 0;
        const std::array<process::ReadRequest, 2> requests = {{
            {at(values, d.values_capacity), &capacity, sizeof capacity},
            {at(values, d.values_valid), &valid, sizeof valid},
        }};
        if (memory.read_batch(requests) != 0 || valid == 0) {
            return std::nullopt;
        }
        auto storage = shared_values(offsets, type, values);
        if (storage) {
            storage->value_count = capacity;
        }
        return storage;
    }
    case InstanceDictModel::DictOffset:
        break;
    }
    return std::nullopt;
}

} // namespace

std::optional<DictStorage> instance_attributes(const process::RemoteMemory& memory,
                                               const PyOffsets& offsets,
                                               RemoteAddr object) {
    const auto type = read_type(memory, offsets, object);
    if (!type) {
        return std::nullopt;
    }
    if (offsets.instance_dict != InstanceDictModel::DictOffset &&
        (type->flags & kManagedDictFlag) != 0) {
        return managed_attributes(memory, offsets, *type, object);
    }
    // A dict pointer inside the object: every type up to 3.10 and static types after. A negative
    // offset counts from the end of a variable-size object, which thread objects are not.
    if (type->dictoffset <= 0 || type->dictoffset > kMaxDictOffset) {
        return std::nullopt;
    }
    return dict_at(memory, offsets, object + static_cast<RemoteAddr>(type->dictoffset));
}

RemoteAddr instance_attribute(const process::RemoteMemory& memory,
                              const PyOffsets& offsets,
                              RemoteAddr object,
                              std::string_view name) {
    const auto storage = instance_attributes(memory, offsets, object);
    return storage ? find_str_key(memory, offsets, *storage, name) : 0;
}

std::optional<std::uint64_t>
read_uint64(const process::RemoteMemory& memory, const PyOffsets& offsets, RemoteAddr object) {
    const auto& l = offsets.long_int;
    if (l.ob_digit < 0) {
        return std::nullopt;
    }
    std::uint64_t ndigits = 0;
    if (l.lv_tag >= 0) {
        std::uint64_t tag = 0;
        if (!memory.try_read(at(object, l.lv_tag), tag)) {
            return std::nullopt;
        }
        const std::uint64_t sign = tag & kLvTagSignMask;
        if (sign == kLvTagZero) {
            return 0;
        }
        if (sign == kLvTagNegative) {
            return std::nullopt;
        }
        ndigits = tag >> kLvTagCountShift;
    } else if (l.ob_size >= 0) {
        std::int64_t size = 0;
        if (!memory.try_read(at(object, l.ob_size), size) || size < 0) {
            return std::nullopt;
        }
        ndigits = static_cast<std::uint64_t>(size);
    } else {
        return std::nullopt;
    }
    if (ndigits > kMaxDigits) {
        return std::nullopt;
    }
    std::array<std::uint32_t, kMaxDigits> digits{};
    if (ndigits > 0 &&
        memory.read(at(object, l.ob_digit), digits.data(), ndigits * sizeof(std::uint32_t)) != 0) {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    for (std::size_t i = 0; i < ndigits; ++i) {
        const unsigned shift = kDigitBits * static_cast<unsigned>(i);
        const std::uint64_t digit = digits[i];
        // Digits have 30 bits; the third may only fill the 4 bits left of a 64-bit value.
        if (digit > kDigitMask || (shift + kDigitBits > 64 && (digit >> (64 - shift)) != 0)) {
            return std::nullopt;
        }
        value |= digit << shift;
    }
    return value;
}

} // namespace cpuprof::python
