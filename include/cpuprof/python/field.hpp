#pragma once

#include "cpuprof/python/offsets.hpp"

#include <cstddef>
#include <cstring>
#include <span>
#include <vector>

namespace cpuprof::python {

/// A field of a struct copied from the target: the value at `offset` in `buffer`, or a
/// value-initialised T when the field is absent or lies outside what was read.
template <typename T> [[nodiscard]] T field(std::span<const std::byte> bytes, Offset offset) {
    T value{};
    if (offset >= 0 && static_cast<std::size_t>(offset) + sizeof(T) <= bytes.size()) {
        std::memcpy(&value, bytes.data() + offset, sizeof(T));
    }
    return value;
}

template <typename T> [[nodiscard]] T field(const std::vector<std::byte>& buffer, Offset offset) {
    return field<T>(std::span<const std::byte>(buffer), offset);
}

} // namespace cpuprof::python
