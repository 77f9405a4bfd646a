#include "cpuprof/process/thread_files.hpp"

#include <atomic>
#include <sys/resource.h>
#include <unistd.h>

namespace cpuprof::process {

namespace {

std::atomic<long> held{0};
std::atomic<std::size_t> refusals{0};

} // namespace

long ThreadFiles::budget() noexcept {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
        return 1L << 20;
    }
    return static_cast<long>(limit.rlim_cur) - kReserve;
}

bool ThreadFiles::reserve_one() noexcept {
    // The limit is asked each time a file is opened (once per thread and file, not per sample):
    // cpuprof raises it at start, and a test may lower it.
    if (held.fetch_add(1, std::memory_order_relaxed) + 1 > budget()) {
        held.fetch_sub(1, std::memory_order_relaxed);
        refusals.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    return true;
}

void ThreadFiles::release_one() noexcept {
    held.fetch_sub(1, std::memory_order_relaxed);
}

bool ThreadFiles::exhausted() noexcept {
    return held.load(std::memory_order_relaxed) >= budget();
}

std::size_t ThreadFiles::refused() noexcept {
    return refusals.load(std::memory_order_relaxed);
}

ThreadFiles::~ThreadFiles() {
    for (auto& [tid, fd] : fds_) {
        ::close(fd);
        release_one();
    }
}

int ThreadFiles::find(Tid tid) const {
    auto it = fds_.find(tid);
    return it == fds_.end() ? -1 : it->second;
}

void ThreadFiles::close(Tid tid) {
    if (auto it = fds_.find(tid); it != fds_.end()) {
        ::close(it->second);
        fds_.erase(it);
        release_one();
    }
}

} // namespace cpuprof::process
