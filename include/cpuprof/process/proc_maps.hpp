#pragma once

#include "cpuprof/types.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cpuprof::process {

/// One row of /proc/PID/maps.
struct MemoryMap {
    RemoteAddr start = 0;
    RemoteAddr end = 0;
    std::uint64_t offset = 0;
    bool readable = false;
    bool writable = false;
    bool executable = false;
    std::string path; ///< empty for anonymous maps; "[heap]", "[stack]" ...

    [[nodiscard]] bool contains(RemoteAddr address) const {
        return address >= start && address < end;
    }
};

/// Parses the text of a maps file; malformed lines are skipped.
[[nodiscard]] std::vector<MemoryMap> parse_maps(std::string_view text);

/// Where the file `path` is loaded: the lowest start of its maps at file offset 0.
[[nodiscard]] std::optional<RemoteAddr> load_start(const std::vector<MemoryMap>& maps,
                                                   const std::string& path);

/// Reads /proc/PID/maps. Throws PermissionError (EACCES/EPERM) or TargetError (no such process).
[[nodiscard]] std::vector<MemoryMap> read_maps(Pid pid);

} // namespace cpuprof::process
