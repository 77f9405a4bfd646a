#include "cpuprof/process/rseq.hpp"

#include "cpuprof/process/elf_image.hpp"
#include "cpuprof/process/proc_files.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <sched.h>
#include <string_view>

namespace cpuprof::process {

namespace {

/// struct rseq (linux/rseq.h): cpu_id_start at 0, cpu_id at 4.
constexpr std::int64_t kCpuIdOffset = 4;
constexpr std::uint32_t kCpuIdEnd = 8;

std::string_view file_name(const std::string& path) {
    const auto slash = path.rfind('/');
    return std::string_view(path).substr(slash == std::string::npos ? 0 : slash + 1);
}

/// The loaded files that may define __rseq_offset: the dynamic loader (glibc's ld.so exports
/// it), libc, and the executable (statically linked). Other libraries are not opened: a large
/// application maps hundreds.
std::vector<std::string> defining_files(const std::vector<MemoryMap>& maps,
                                        const std::string& executable) {
    std::vector<std::string> files;
    for (const int rank : {0, 1, 2}) {
        for (const auto& map : maps) {
            const std::string_view name = file_name(map.path);
            const bool wanted = rank == 0   ? name.starts_with("ld-")
                                : rank == 1 ? name.starts_with("libc.")
                                            : map.path == executable;
            if (wanted && map.offset == 0 && map.path.starts_with('/') &&
                std::find(files.begin(), files.end(), map.path) == files.end()) {
                files.push_back(map.path);
            }
        }
    }
    return files;
}

} // namespace

std::optional<std::int64_t>
rseq_cpu_offset(Pid pid, const RemoteMemory& memory, const std::vector<MemoryMap>& maps) {
#if defined(__x86_64__)
    for (const auto& path : defining_files(maps, executable_path(pid))) {
        auto elf = ElfImage::open(fmt::format("/proc/{}/root{}", pid, path));
        if (!elf) {
            continue;
        }
        const auto offset_symbol = elf->symbol("__rseq_offset");
        const auto size_symbol = elf->symbol("__rseq_size");
        const auto start = load_start(maps, path);
        if (!offset_symbol || !size_symbol || !start) {
            continue;
        }
        const RemoteAddr bias = *start - elf->base_vaddr();
        std::int64_t offset = 0;
        std::uint32_t size = 0;
        if (!memory.try_read(bias + *offset_symbol, offset) ||
            !memory.try_read(bias + *size_symbol, size)) {
            return std::nullopt;
        }
        // __rseq_size is 0 when the C library registered nothing.
        if (size < kCpuIdEnd) {
            return std::nullopt;
        }
        return offset + kCpuIdOffset;
    }
#else
    (void)pid;
    (void)memory;
    (void)maps;
#endif
    return std::nullopt;
}

std::optional<unsigned> decode_rseq_cpu(std::uint64_t word) noexcept {
    const auto cpu = static_cast<std::uint32_t>(word); // little-endian: cpu_id is the low half
    if (cpu >= CPU_SETSIZE) {
        return std::nullopt;
    }
    return cpu;
}

} // namespace cpuprof::process
