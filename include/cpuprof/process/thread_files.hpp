#pragma once

#include "cpuprof/types.hpp"

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
    template <typename Open> int get(Tid tid, Open&& open) {
        if (auto it = fds_.find(tid); it != fds_.end()) {
            return it->second;
        }
        const int fd = std::forward<Open>(open)();
        if (fd >= 0) {
            fds_.emplace(tid, fd);
        }
        return fd;
    }
    /// The thread's descriptor if it is open, else -1.
    [[nodiscard]] int find(Tid tid) const;
    /// Closes the thread's descriptor (nothing when it has none).
    void close(Tid tid);

  private:
    std::unordered_map<Tid, int> fds_;
};

} // namespace cpuprof::process
