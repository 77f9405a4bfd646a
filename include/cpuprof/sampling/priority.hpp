#pragma once

#include <optional>
#include <string>

namespace cpuprof::sampling {

/// Puts the calling thread (the sampler) in the real-time class, SCHED_FIFO at the lowest
/// priority, so that each tick preempts whatever runs on its CPU at once. At the normal class
/// the kernel (EEVDF) lets a busy thread finish its slice first: the tick then comes when the
/// CPU frees up, which is when the target's threads that run in short bursts have just gone to
/// sleep, and they were sampled at a tenth of their CPU share. Returns why not, when the
/// thread may not (no CAP_SYS_NICE, no RLIMIT_RTPRIO).
[[nodiscard]] std::optional<std::string> raise_sampling_priority();

/// Back to the normal class: a real-time sampler that is busy most of the time would take most
/// of a CPU from everything else on it.
void lower_sampling_priority();

} // namespace cpuprof::sampling
