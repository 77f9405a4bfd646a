#pragma once

#include "cpuprof/process/remote_memory.hpp"
#include "cpuprof/python/offsets.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace cpuprof::python {

/// Longest string (in code points) read from the target; longer ones are cut and marked.
inline constexpr std::size_t kMaxStringLength = 4096;

/// What PyASCIIObject.state says of a str, identical from 3.8 to 3.13: interned:2, kind:3,
/// compact:1, ascii:1, then ready:1 up to 3.11 (3.12 dropped non-ready strings and reused the bit
/// for statically_allocated).
struct StrState {
    unsigned kind = 0; ///< 1, 2 or 4 bytes per code point
    bool ascii = false;
    /// A compact, ready string of a valid kind: its characters follow its header.
    bool readable = false;
};
[[nodiscard]] StrState decode_str_state(std::uint32_t state, int minor) noexcept;

/// Converts the payload of a compact PyUnicode object to UTF-8. `kind` is 1 (ASCII / Latin-1),
/// 2 (UCS-2) or 4 (UCS-4); `data` holds `length * kind` bytes. Invalid code points (surrogates,
/// > 0x10FFFF) become U+FFFD.
[[nodiscard]] std::string
utf8_from_ucs(std::span<const std::byte> data, int kind, std::size_t length);

/// Reads a str object (compact ASCII or compact Latin-1/UCS-2/UCS-4) from the target and returns
/// it as UTF-8. Returns nullopt when the object is not a compact ready string or a read fails.
/// Never reads more than kMaxStringLength code points.
[[nodiscard]] std::optional<std::string>
read_unicode(const process::RemoteMemory& memory, const PyOffsets& offsets, RemoteAddr object);

/// Reads the payload of a bytes object (at most `max_size` bytes); nullopt on failure.
[[nodiscard]] std::optional<std::string> read_bytes(const process::RemoteMemory& memory,
                                                    const PyOffsets& offsets,
                                                    RemoteAddr object,
                                                    std::size_t max_size = 1 << 20);

} // namespace cpuprof::python
