#include "cpuprof/sampling/priority.hpp"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace cpuprof::sampling {

namespace {

// The kernel's struct sched_attr, first version (48 bytes): glibc 2.36 has no wrapper and
// <linux/sched/types.h> clashes with <sched.h>.
struct KernelSchedAttr {
    std::uint32_t size = sizeof(KernelSchedAttr);
    std::uint32_t sched_policy = 0;
    std::uint64_t sched_flags = 0;
    std::int32_t sched_nice = 0;
    std::uint32_t sched_priority = 0;
    std::uint64_t sched_runtime = 0; ///< the slice, for the normal class (6.12+)
    std::uint64_t sched_deadline = 0;
    std::uint64_t sched_period = 0;
};
static_assert(sizeof(KernelSchedAttr) == 48);

bool get_attr(KernelSchedAttr& attr) {
    return syscall(SYS_sched_getattr, 0, &attr, sizeof attr, 0) == 0;
}

// SCHED_OTHER at the thread's own nice value, with `slice_ns` (0: the kernel's default).
bool set_normal(std::uint64_t slice_ns) {
    KernelSchedAttr attr;
    attr.sched_policy = SCHED_OTHER;
    errno = 0;
    const int nice = getpriority(PRIO_PROCESS, static_cast<id_t>(gettid()));
    attr.sched_nice = errno == 0 ? nice : 0;
    attr.sched_runtime = slice_ns;
    return syscall(SYS_sched_setattr, 0, &attr, 0) == 0;
}

std::optional<std::string> try_realtime() {
    sched_param param{};
    param.sched_priority = sched_get_priority_min(SCHED_FIFO);
    const int error = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
    if (error != 0) {
        return std::string(std::strerror(error));
    }
    return std::nullopt;
}

} // namespace

const char* priority_name(SamplerPriority priority) noexcept {
    switch (priority) {
    case SamplerPriority::ShortSlice:
        return "short-slice";
    case SamplerPriority::RealTime:
        return "real-time";
    case SamplerPriority::Normal:
        break;
    }
    return "normal";
}

PriorityOutcome raise_sampling_priority(SamplerPriority best) {
    PriorityOutcome outcome;
    if (best == SamplerPriority::ShortSlice && set_normal(kSamplerSliceNs)) {
        // Read back: a kernel without custom slices accepts the request and ignores it.
        if (const auto state = scheduling_state(); state && state->slice_ns == kSamplerSliceNs) {
            outcome.priority = SamplerPriority::ShortSlice;
            return outcome;
        }
    }
    if (best == SamplerPriority::ShortSlice) {
        outcome.note = "this kernel has no custom slices (Linux 6.12+)";
    }
    if (best != SamplerPriority::Normal) {
        auto problem = try_realtime();
        if (!problem) {
            outcome.priority = SamplerPriority::RealTime;
            return outcome;
        }
        outcome.note += fmt::format("{}real-time priority refused: {}",
                                    outcome.note.empty() ? "" : "; ", *problem);
    }
    outcome.priority = SamplerPriority::Normal;
    return outcome;
}

void lower_sampling_priority() {
    set_normal(0);
}

std::optional<SchedulingState> scheduling_state() {
    KernelSchedAttr attr;
    if (!get_attr(attr)) {
        return std::nullopt;
    }
    SchedulingState state;
    state.policy = attr.sched_policy;
    state.rt_priority = attr.sched_priority;
    state.slice_ns = attr.sched_policy == SCHED_OTHER ? attr.sched_runtime : 0;
    return state;
}

} // namespace cpuprof::sampling
