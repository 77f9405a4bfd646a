#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cpuprof::sampling {

/// How the sampling thread is scheduled. At the plain normal class the kernel (EEVDF) lets a
/// busy thread finish its slice before a waking one runs: a tick that lands on a busy CPU then
/// comes when that CPU frees up, which is when the target's threads that run in short bursts
/// have just gone to sleep, and they were sampled at a tenth of their CPU share. Either of the
/// first two classes makes each tick run at once.
enum class SamplerPriority {
    /// Normal class with a 100 µs slice (Linux 6.12+, no privilege needed): a waking thread
    /// with a shorter slice than the running one preempts it, yet the kernel still wakes the
    /// sampler on an idle CPU when there is one. Measured on 4 GIL-bound threads at 1 kHz:
    /// +1.9 % slowdown against +3.3 % with SCHED_FIFO, and the same sampling accuracy.
    ShortSlice,
    /// SCHED_FIFO 1 (root, CAP_SYS_NICE or RLIMIT_RTPRIO): preempts whatever runs on the CPU
    /// the tick lands on, a target thread included, even when another CPU is idle.
    RealTime,
    /// The normal class as it was.
    Normal,
};

/// The slice asked for with SamplerPriority::ShortSlice: the kernel's smallest.
inline constexpr std::uint64_t kSamplerSliceNs = 100'000;

/// "short-slice", "real-time" or "normal", as the JSON profile's "sampler_priority" says.
[[nodiscard]] const char* priority_name(SamplerPriority priority) noexcept;

struct PriorityOutcome {
    SamplerPriority priority = SamplerPriority::Normal;
    /// Why no better class was had (empty when the first choice was).
    std::string note;
};

/// Puts the calling thread (the sampler) in the best class allowed, trying from `best` down:
/// ShortSlice, RealTime, Normal. A kernel without custom slices (before 6.12) accepts the
/// request and ignores it; the slice is read back to tell.
[[nodiscard]] PriorityOutcome
raise_sampling_priority(SamplerPriority best = SamplerPriority::ShortSlice);

/// Back to the normal class with the default slice: a real-time sampler that is busy most of
/// the time would take most of a CPU from everything else on it.
void lower_sampling_priority();

/// The calling thread's class as the kernel reports it (sched_getattr): its policy (SCHED_*),
/// real-time priority and, for the normal class on Linux 6.12+, its slice (0 before).
struct SchedulingState {
    std::uint32_t policy = 0;
    std::uint32_t rt_priority = 0;
    std::uint64_t slice_ns = 0;
};
[[nodiscard]] std::optional<SchedulingState> scheduling_state();

} // namespace cpuprof::sampling
