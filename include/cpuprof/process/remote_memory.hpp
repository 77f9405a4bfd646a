#pragma once

#include "cpuprof/error.hpp"
#include "cpuprof/types.hpp"

#include <cstddef>
#include <span>
#include <string>
#include <type_traits>

namespace cpuprof::process {

/// One piece of a batched read.
struct ReadRequest {
    RemoteAddr address;
    void* destination;
    std::size_t length;
};

/// The memory of another process (or a synthetic image of one). Reads never write to the target.
class RemoteMemory {
  public:
    virtual ~RemoteMemory() = default;
    RemoteMemory() = default;
    RemoteMemory(const RemoteMemory&) = delete;
    RemoteMemory& operator=(const RemoteMemory&) = delete;

    /// Copies `length` bytes at `address` into `destination`. Returns 0 when every byte was
    /// read, otherwise an errno value (EFAULT for an unmapped or partly mapped range).
    [[nodiscard]] virtual int
    read(RemoteAddr address, void* destination, std::size_t length) const noexcept = 0;

    /// Reads several ranges; returns 0 when all were read completely. The default reads them
    /// one at a time; the live-process implementation batches them in one system call.
    [[nodiscard]] virtual int read_batch(std::span<const ReadRequest> requests) const noexcept;

    /// Reads requests in order until one cannot be read whole; returns how many leading requests
    /// were read completely (the rest are left unread). The live-process implementation does it
    /// in one system call: it is how a set of blocks expected to be mapped is fetched at once.
    [[nodiscard]] virtual std::size_t
    read_leading(std::span<const ReadRequest> requests) const noexcept;

    /// The `length` bytes at `address` where they already sit in this process's memory (a cache
    /// of the target's), or nullptr: the caller then read()s them. No copy is made, so the
    /// pointer is valid only until the next call on this memory; take what is needed from it
    /// first. A view counts as a read for whatever the implementation tracks.
    [[nodiscard]] virtual const std::byte* view(RemoteAddr /*address*/,
                                                std::size_t /*length*/) const noexcept {
        return nullptr;
    }

    /// The process this memory belongs to (0 for synthetic images); used in error messages.
    [[nodiscard]] virtual Pid pid() const noexcept { return 0; }

    /// Throwing read, for setup code.
    void read_or_throw(RemoteAddr address,
                       void* destination,
                       std::size_t length,
                       const char* what) const;

    template <typename T>
    [[nodiscard]] T read_as(RemoteAddr address, const char* what = "reading remote memory") const {
        static_assert(std::is_trivially_copyable_v<T>);
        T value;
        read_or_throw(address, &value, sizeof(T), what);
        return value;
    }

    template <typename T> [[nodiscard]] bool try_read(RemoteAddr address, T& out) const noexcept {
        static_assert(std::is_trivially_copyable_v<T>);
        return read(address, &out, sizeof(T)) == 0;
    }
};

} // namespace cpuprof::process
