#include "cpuprof/sampling/counters.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace cpuprof::sampling {

namespace {

int open_event(PerfCounterSource::Event event, Tid tid) {
    perf_event_attr attr{};
    attr.size = sizeof attr;
    if (event == PerfCounterSource::Event::Instructions) {
        attr.type = PERF_TYPE_HARDWARE;
        attr.config = PERF_COUNT_HW_INSTRUCTIONS;
    } else {
        attr.type = PERF_TYPE_SOFTWARE;
        attr.config = PERF_COUNT_SW_TASK_CLOCK;
    }
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    return static_cast<int>(
        ::syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

} // namespace

std::optional<std::string> PerfCounterSource::probe(Event event, Tid tid) {
    int fd = open_event(event, tid);
    if (fd >= 0) {
        ::close(fd);
        return std::nullopt;
    }
    const int err = errno;
    if (event == Event::Instructions && (err == ENOENT || err == EOPNOTSUPP || err == ENODEV)) {
        return fmt::format("no hardware instruction counter on this machine (perf_event_open: {})",
                           std::strerror(err));
    }
    if (err == EACCES || err == EPERM) {
        return fmt::format("perf_event_open not permitted ({}): run as root or lower "
                           "/proc/sys/kernel/perf_event_paranoid",
                           std::strerror(err));
    }
    return fmt::format("perf_event_open failed: {}", std::strerror(err));
}

bool PerfCounterSource::open(Tid tid) {
    return files_.get(tid, [this, tid] { return open_event(event_, tid); }) >= 0;
}

std::optional<std::uint64_t> PerfCounterSource::read(Tid tid) {
    const int fd = files_.find(tid);
    std::uint64_t value = 0;
    if (fd < 0 || ::read(fd, &value, sizeof value) != static_cast<ssize_t>(sizeof value)) {
        return std::nullopt;
    }
    return value;
}

void PerfCounterSource::close(Tid tid) {
    files_.close(tid);
}

std::uint64_t DeltaAttributor::delta(Tid tid) {
    auto value = source_.read(tid);
    if (!value) {
        if (unavailable_.contains(tid)) {
            return 0;
        }
        if (!source_.open(tid)) {
            unavailable_.insert(tid);
        } else {
            if (auto first = source_.read(tid)) {
                last_[tid] = *first;
            }
        }
        return 0;
    }
    auto [it, inserted] = last_.try_emplace(tid, *value);
    if (inserted) {
        return 0;
    }
    const std::uint64_t d = *value >= it->second ? *value - it->second : 0;
    it->second = *value;
    return d;
}

void DeltaAttributor::forget(Tid tid) {
    last_.erase(tid);
    unavailable_.erase(tid);
    source_.close(tid);
}

} // namespace cpuprof::sampling
