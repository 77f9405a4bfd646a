#pragma once

#include "cpuprof/profile/frame_table.hpp"
#include "cpuprof/profile/stack_table.hpp"
#include "cpuprof/types.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cpuprof::profile {

struct TargetInfo {
    Pid pid = 0;
    std::string python_version; ///< "3.12.1"
    std::string executable;     ///< the target's /proc/PID/exe
    std::vector<std::string> command_line;
};

/// Accounting of the sampler: what was expected, what was taken, what went wrong.
struct SamplingStats {
    std::uint64_t ticks = 0;          ///< timer ticks that were serviced
    std::uint64_t expected_ticks = 0; ///< duration x rate
    std::uint64_t late_ticks = 0;     ///< serviced after their deadline had passed
    std::uint64_t lost_ticks = 0;     ///< skipped because the sampler fell more than a tick behind
    std::uint64_t thread_samples = 0; ///< stacks recorded (one per sampled thread per tick)
    std::uint64_t idle_skipped = 0;   ///< thread samples left out because the thread was idle
    std::uint64_t gil_samples = 0;    ///< thread samples taken while the thread held the GIL
    std::uint64_t failed = 0;         ///< thread samples lost to a failed remote read
    std::uint64_t torn = 0;           ///< thread samples dropped because validation saw a torn read
    std::uint64_t unmerged = 0;       ///< native samples kept with an <unmerged> marker
    std::uint64_t sampler_cpu_ns = 0; ///< cpuprof's own CPU time while sampling
    std::uint64_t paused_ns = 0;      ///< time sampling was paused (SIGUSR1 .. SIGUSR2)
    std::uint64_t colocated_ticks = 0; ///< ticks the sampler found itself on a target thread's CPU
    std::uint64_t sampler_moves = 0;   ///< times it moved itself off such a CPU
    std::uint64_t switch_rings_closed = 0; ///< switch rings closed over their budget
};

enum class CounterKind : std::uint8_t {
    HardwareInstructions, ///< perf_event_open PERF_COUNT_HW_INSTRUCTIONS per thread
    TaskClock,            ///< no hardware counter: CPU time per stack from the task clock
};

struct ThreadInfo {
    Tid tid = 0;
    std::string name; ///< the OS name (comm) or the Python thread name when known
    std::uint64_t samples = 0;
};

/// One tick of one thread, in time order (for formats that show a timeline).
struct TimelineEntry {
    std::uint32_t tick;
    StackId stack;
};

/// Everything a recording produced; every output format is written from this.
struct Profile {
    TargetInfo target;
    double rate_hz = 0;
    double duration_s = 0;
    std::uint64_t start_unix_ns = 0;
    SamplingStats stats;
    CounterKind counter = CounterKind::TaskClock;
    std::string counter_note; ///< why the hardware counter is unavailable, when it is
    /// Where per-stack CPU time comes from: "schedstat" (/proc/TID/schedstat), "task-clock"
    /// (perf software clock, where schedstat is missing) or "unavailable".
    std::string cpu_time_source = "schedstat";
    /// How the sampling thread was scheduled: "short-slice" (a 100 µs slice, Linux 6.12+),
    /// "real-time" (SCHED_FIFO 1), "real-time, then normal" (it left real-time priority when
    /// busy) or "normal" (ticks may come late on a busy CPU).
    std::string sampler_priority = "normal";
    bool native = false;
    bool idle_included = false;
    bool gil_only = false;
    bool per_thread = false;
    bool function_only = false;
    FrameTable frames;
    StackTable stacks;
    std::map<Tid, ThreadInfo> threads;
    std::vector<TimelineEntry> timeline;
};

} // namespace cpuprof::profile
