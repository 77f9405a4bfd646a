#pragma once

#include "cpuprof/process/remote_memory.hpp"

#include <cstdint>
#include <map>
#include <vector>

namespace cpuprof::process {

/// A synthetic memory image: a set of non-overlapping regions at chosen addresses. Used by unit
/// tests and fuzzers to run the walkers without a live process. Reads outside every region, or
/// crossing a region's end, fail with EFAULT as a live read would.
class BufferMemory final : public RemoteMemory {
  public:
    BufferMemory() = default;

    /// Adds (or replaces) a region of `size` zero bytes at `base`; returns a pointer to fill it.
    std::byte* map(RemoteAddr base, std::size_t size);

    /// Writes raw bytes into a mapped region (throws std::out_of_range when not mapped).
    void write(RemoteAddr address, const void* data, std::size_t length);

    template <typename T> void put(RemoteAddr address, const T& value) {
        write(address, &value, sizeof(T));
    }

    [[nodiscard]] int
    read(RemoteAddr address, void* destination, std::size_t length) const noexcept override;

  private:
    std::map<RemoteAddr, std::vector<std::byte>> regions_;
};

} // namespace cpuprof::process
