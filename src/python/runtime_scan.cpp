#include "cpuprof/python/runtime_scan.hpp"

#include <cstring>

namespace cpuprof::python {

namespace {

constexpr std::size_t kMaxScan = 64 << 20;
constexpr std::int64_t kMaxInterpreters = 1 << 16;
constexpr char kCookie[8] = {'x', 'd', 'e', 'b', 'u', 'g', 'p', 'y'};

/// The writable maps that belong to `binary`: its own, and the anonymous one that directly
/// follows them (the part of .bss past the file's last page).
std::vector<process::MemoryMap> data_maps(const std::vector<process::MemoryMap>& maps,
                                          const std::string& binary) {
    std::vector<process::MemoryMap> out;
    for (std::size_t i = 0; i < maps.size(); ++i) {
        if (maps[i].path != binary) {
            continue;
        }
        if (maps[i].writable && maps[i].readable) {
            out.push_back(maps[i]);
        }
        if (i + 1 < maps.size() && maps[i + 1].path.empty() && maps[i + 1].writable &&
            maps[i + 1].start == maps[i].end) {
            out.push_back(maps[i + 1]);
        }
    }
    return out;
}

template <typename T> T at(const std::vector<std::byte>& buffer, std::size_t offset) {
    T value{};
    if (offset + sizeof(T) <= buffer.size()) {
        std::memcpy(&value, buffer.data() + offset, sizeof(T));
    }
    return value;
}

bool interpreter_checks_out(const process::RemoteMemory& memory,
                            const PyOffsets& o,
                            RemoteAddr interp) {
    RemoteAddr tstate = 0;
    RemoteAddr back = 0;
    return interp % 8 == 0 &&
           memory.try_read(interp + static_cast<RemoteAddr>(o.interp.threads_head), tstate) &&
           tstate != 0 && tstate % 8 == 0 &&
           memory.try_read(tstate + static_cast<RemoteAddr>(o.thread.interp), back) &&
           back == interp;
}

} // namespace

std::optional<RemoteAddr> scan_for_runtime(const process::RemoteMemory& memory,
                                           const std::vector<process::MemoryMap>& maps,
                                           const std::string& binary,
                                           const PyOffsets& offsets) {
    const auto head = static_cast<std::size_t>(offsets.runtime.interpreters_head);
    std::size_t budget = kMaxScan;
    std::vector<std::byte> buffer;
    for (const auto& map : data_maps(maps, binary)) {
        const std::size_t size = std::min<std::size_t>(map.end - map.start, budget);
        budget -= size;
        buffer.resize(size);
        if (size == 0 || memory.read(map.start, buffer.data(), size) != 0) {
            continue;
        }
        for (std::size_t off = 0; off + 16 <= size; off += 8) {
            if (offsets.minor >= 13) {
                if (std::memcmp(buffer.data() + off, kCookie, sizeof kCookie) == 0 &&
                    ((at<std::uint64_t>(buffer, off + 8) >> 16) & 0xffff) ==
                        static_cast<std::uint64_t>(0x300 | offsets.minor)) {
                    return map.start + off;
                }
                continue;
            }
            // interpreters {mutex; head; main; int64 next_id}: head == main while the main
            // interpreter is the newest one, and next_id counts the interpreters ever made.
            const auto first = at<RemoteAddr>(buffer, off + head);
            const auto next_id = at<std::int64_t>(buffer, off + head + 16);
            if (first != 0 && first == at<RemoteAddr>(buffer, off + head + 8) && next_id >= 1 &&
                next_id <= kMaxInterpreters && interpreter_checks_out(memory, offsets, first)) {
                return map.start + off;
            }
        }
    }
    return std::nullopt;
}

} // namespace cpuprof::python
