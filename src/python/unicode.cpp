#include "cpuprof/python/unicode.hpp"

#include "cpuprof/common/utf8.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>
#include <vector>

namespace cpuprof::python {

namespace {

// PyASCIIObject.state bits (see StrState).
constexpr unsigned kKindShift = 2;
constexpr unsigned kKindMask = 7;
constexpr unsigned kCompactBit = 1U << 5;
constexpr unsigned kAsciiBit = 1U << 6;
constexpr unsigned kReadyBit = 1U << 7;
constexpr int kLastMinorWithReadyBit = 11;

// Appended to strings cut at kMaxStringLength so a reader can tell.
constexpr std::string_view kCutMarker = "...";

// Large enough for the PyCompactUnicodeObject / PyBytesObject header of every supported version.
constexpr std::size_t kMaxHeader = 128;

template <typename T> T load(const std::byte* from) {
    T value;
    std::memcpy(&value, from, sizeof(T));
    return value;
}

bool valid_field(Offset offset, std::size_t width) {
    return offset >= 0 && static_cast<std::size_t>(offset) + width <= kMaxHeader;
}

} // namespace

StrState decode_str_state(std::uint32_t state, int minor) noexcept {
    StrState s;
    s.kind = (state >> kKindShift) & kKindMask;
    s.ascii = (state & kAsciiBit) != 0;
    const bool ready = minor > kLastMinorWithReadyBit || (state & kReadyBit) != 0;
    s.readable = (state & kCompactBit) != 0 && (s.kind == 1 || s.kind == 2 || s.kind == 4) &&
                 (!s.ascii || s.kind == 1) && ready;
    return s;
}

std::string utf8_from_ucs(std::span<const std::byte> data, int kind, std::size_t length) {
    std::string out;
    if (kind != 1 && kind != 2 && kind != 4) {
        return out;
    }
    const auto width = static_cast<std::size_t>(kind);
    length = std::min(length, data.size() / width);
    out.reserve(length);
    for (std::size_t i = 0; i < length; ++i) {
        const std::byte* unit = data.data() + i * width;
        char32_t cp = 0;
        switch (kind) {
        case 1:
            cp = std::to_integer<std::uint8_t>(*unit);
            break;
        case 2:
            cp = load<std::uint16_t>(unit);
            break;
        default:
            cp = load<std::uint32_t>(unit);
            break;
        }
        common::append_utf8(out, cp);
    }
    return out;
}

std::optional<std::string>
read_unicode(const process::RemoteMemory& memory, const PyOffsets& offsets, RemoteAddr object) {
    const auto& layout = offsets.unicode;
    // state and length live in the PyASCIIObject header, which PyCompactUnicodeObject extends.
    if (!valid_field(layout.compact_data, 0) || layout.ascii_data > layout.compact_data ||
        layout.state < 0 || layout.state + 4 > layout.ascii_data || layout.length < 0 ||
        layout.length + 8 > layout.ascii_data) {
        return std::nullopt;
    }
    // Reading the larger header also brings in the first characters of a compact ASCII string,
    // which saves the second read for short names. An object at the very end of a mapping may
    // not have that many bytes, so fall back to the exact ASCII header.
    std::array<std::byte, kMaxHeader> header{};
    auto header_size = static_cast<std::size_t>(layout.compact_data);
    if (memory.read(object, header.data(), header_size) != 0) {
        header_size = static_cast<std::size_t>(layout.ascii_data);
        if (memory.read(object, header.data(), header_size) != 0) {
            return std::nullopt;
        }
    }
    const StrState state =
        decode_str_state(load<std::uint32_t>(header.data() + layout.state), offsets.minor);
    const auto length = load<std::int64_t>(header.data() + layout.length);
    const unsigned kind = state.kind;
    const bool ascii = state.ascii;
    if (!state.readable || length < 0) {
        return std::nullopt;
    }

    const auto count = std::min(static_cast<std::size_t>(length), kMaxStringLength);
    const auto data_offset =
        static_cast<std::size_t>(ascii ? layout.ascii_data : layout.compact_data);
    const std::size_t bytes = count * kind;
    std::string text;
    if (data_offset + bytes <= header_size) {
        text = utf8_from_ucs(std::span(header).subspan(data_offset, bytes), static_cast<int>(kind),
                             count);
    } else {
        std::vector<std::byte> payload(bytes);
        if (memory.read(object + data_offset, payload.data(), bytes) != 0) {
            return std::nullopt;
        }
        text = utf8_from_ucs(payload, static_cast<int>(kind), count);
    }
    if (count < static_cast<std::size_t>(length)) {
        text += kCutMarker;
    }
    return text;
}

std::optional<std::string> read_bytes(const process::RemoteMemory& memory,
                                      const PyOffsets& offsets,
                                      RemoteAddr object,
                                      std::size_t max_size) {
    const auto& layout = offsets.object;
    if (!valid_field(layout.bytes_size, sizeof(std::int64_t)) ||
        !valid_field(layout.bytes_data, 0)) {
        return std::nullopt;
    }
    std::int64_t size = 0;
    if (memory.read(object + static_cast<RemoteAddr>(layout.bytes_size), &size, sizeof size) != 0 ||
        size < 0) {
        return std::nullopt;
    }
    std::string payload(std::min(static_cast<std::size_t>(size), max_size), '\0');
    if (memory.read(object + static_cast<RemoteAddr>(layout.bytes_data), payload.data(),
                    payload.size()) != 0) {
        return std::nullopt;
    }
    return payload;
}

} // namespace cpuprof::python
