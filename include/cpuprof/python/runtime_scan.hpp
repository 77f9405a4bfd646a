#pragma once

#include "cpuprof/process/proc_maps.hpp"
#include "cpuprof/process/remote_memory.hpp"
#include "cpuprof/python/offsets.hpp"

#include <optional>
#include <string>
#include <vector>

namespace cpuprof::python {

/// Finds `_PyRuntime` when neither a symbol nor the .PyRuntime section names it, by scanning the
/// writable maps of `binary` (its .data and the .bss right after it):
/// - 3.13+: the `_Py_DebugOffsets` cookie "xdebugpy" that starts _PyRuntime, with the version
///   word of the expected minor version after it;
/// - before: an address R where interpreters.head == interpreters.main != 0, interpreters.next_id
///   is a small count, and the first thread state of that interpreter points back to it.
/// Reads at most 64 MiB; returns nullopt when nothing validates.
[[nodiscard]] std::optional<RemoteAddr>
scan_for_runtime(const process::RemoteMemory& memory,
                 const std::vector<process::MemoryMap>& maps,
                 const std::string& binary,
                 const PyOffsets& offsets);

} // namespace cpuprof::python
