#pragma once

#include "cpuprof/process/remote_memory.hpp"
#include "cpuprof/python/offsets.hpp"
#include "cpuprof/python/remote_dict.hpp"

#include <cstdint>
#include <optional>
#include <string_view>

namespace cpuprof::python {

/// Where the instance attributes of the object at `object` live: its __dict__ (at tp_dictoffset
/// up to 3.10, the managed dict pointer after), or on 3.11+ a values array (in the pre-header, or
/// inline on 3.13) keyed by its heap type's shared keys. nullopt when the object has no
/// attributes yet, its type has no instance dict, or a read fails.
[[nodiscard]] std::optional<DictStorage> instance_attributes(const process::RemoteMemory& memory,
                                                             const PyOffsets& offsets,
                                                             RemoteAddr object);

/// The instance attribute `name` (ASCII) of `object`, looked up in its own attributes only (not
/// its class); 0 when absent or unreadable.
[[nodiscard]] RemoteAddr instance_attribute(const process::RemoteMemory& memory,
                                            const PyOffsets& offsets,
                                            RemoteAddr object,
                                            std::string_view name);

/// The value of the int object at `object` when it is non-negative and fits in 64 bits
/// (threading idents are pthread_t values); nullopt otherwise or when a read fails.
[[nodiscard]] std::optional<std::uint64_t>
read_uint64(const process::RemoteMemory& memory, const PyOffsets& offsets, RemoteAddr object);

} // namespace cpuprof::python
