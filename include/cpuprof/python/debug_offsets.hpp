#pragma once

#include "cpuprof/process/remote_memory.hpp"
#include "cpuprof/python/offsets.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace cpuprof::python {

/// Size of the 3.13 `_Py_DebugOffsets` block at the start of `_PyRuntime`.
[[nodiscard]] std::size_t debug_offsets_size(int minor);

/// Result of reading `_Py_DebugOffsets` from the target.
struct DebugOffsetsResult {
    std::optional<PyOffsets> offsets; ///< set when the block was valid
    std::uint64_t version_hex = 0;    ///< the block's PY_VERSION_HEX (0 if the cookie was absent)
    bool free_threaded = false;
    std::string problem; ///< why it was rejected, when it was
};

/// Parses and validates the raw bytes of a `_Py_DebugOffsets` block (3.13+): cookie "xdebugpy",
/// a version that matches `expected_minor`, a default (not free-threaded) build, struct sizes
/// under 1 MiB and every field inside its struct. Fields the block lacks keep the values of
/// `fallback` (the static table of that minor version).
[[nodiscard]] DebugOffsetsResult parse_debug_offsets(std::span<const std::byte> block,
                                                     int expected_minor,
                                                     const PyOffsets& fallback);

/// Reads the block at `runtime_address` (the address of `_PyRuntime`) and parses it.
[[nodiscard]] DebugOffsetsResult load_debug_offsets(const process::RemoteMemory& memory,
                                                    RemoteAddr runtime_address,
                                                    int expected_minor,
                                                    const PyOffsets& fallback);

} // namespace cpuprof::python
