#pragma once

#include "cpuprof/types.hpp"

#include <cstddef>
#include <unordered_map>
#include <utility>

namespace cpuprof::process {

/// One open descriptor per target thread (a /proc file or a perf counter), opened on first use,
/// re-read with pread or read at every sample, closed when the thread is forgotten or this goes
/// away.
class ThreadFiles {
  public:
    ThreadFiles() = default;
    ~ThreadFiles();
    ThreadFiles(const ThreadFiles&) = delete;
    ThreadFiles& operator=(const ThreadFiles&) = delete;

    /// The thread's descriptor, opened by `open()` (returning a descriptor or -1) the first time;
    /// -1 when it cannot be opened.
    /// -1 too, without trying, when opening it would leave fewer than kReserve descriptors
    /// under the open-file limit (see refused()).
    template <typename Open> int get(Tid tid, Open&& open) {
        if (auto it = fds_.find(tid); it != fds_.end()) {
            return it->second;
        }
        if (!reserve_one()) {
            return -1;
        }
        const int fd = std::forward<Open>(open)();
        if (fd >= 0) {
            fds_.emplace(tid, fd);
        } else {
            release_one();
        }
        return fd;
    }
    /// The thread's descriptor if it is open, else -1.
    [[nodiscard]] int find(Tid tid) const;
    /// Closes the thread's descriptor (nothing when it has none).
    void close(Tid tid);

    /// Descriptors kept free of per-thread files for everything else cpuprof opens (the
    /// profile it writes, /proc reads, the ELF files libdw and libunwind read). A target with
    /// thousands of threads would otherwise take them all, and the recording could not be
    /// written.
    static constexpr long kReserve = 256;
    /// Opens refused so far, by every ThreadFiles together, for want of descriptors.
    [[nodiscard]] static std::size_t refused() noexcept;
    /// True while every ThreadFiles together hold their whole budget: an open now is refused.
    [[nodiscard]] static bool exhausted() noexcept;
    /// Descriptors every ThreadFiles together may hold: the soft open-file limit less kReserve.
    [[nodiscard]] static long budget() noexcept;

  private:
    static bool reserve_one() noexcept;
    static void release_one() noexcept;

    std::unordered_map<Tid, int> fds_;
};

} // namespace cpuprof::process
