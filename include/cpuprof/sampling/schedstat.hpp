#pragma once

#include "cpuprof/process/thread_files.hpp"
#include "cpuprof/sampling/counters.hpp"
#include "cpuprof/types.hpp"

#include <cstdint>
#include <optional>
#include <string_view>
#include <unordered_map>

namespace cpuprof::sampling {

/// Per-thread CPU time (user + system, nanoseconds) from /proc/TID/schedstat (a thread's own
/// directory, so threads of every sampled process are served), the scheduler's runtime of the
/// thread. One file kept open per thread and re-read with pread.
///
/// Reading a perf task clock of a thread running on another CPU costs an inter-processor
/// interrupt on that CPU (about 19 µs per read on these VMs, and the target is interrupted);
/// schedstat is read without one (about 2 µs), so it is the CPU-time source whenever the
/// kernel provides it (CONFIG_SCHED_INFO).
class SchedstatCpuSource final : public CounterSource {
  public:
    /// A schedstat line: the runtime (first field) and how many times the scheduler has put
    /// the thread on a CPU (third field, "timeslices").
    struct Line {
        std::uint64_t runtime_ns = 0;
        std::uint64_t switches_in = 0;
        bool operator==(const Line&) const = default;
    };

    SchedstatCpuSource() = default;

    /// True when the kernel exposes schedstat for thread `tid`.
    [[nodiscard]] static bool available(Tid tid);
    /// The runtime in nanoseconds: the first field of a schedstat line.
    [[nodiscard]] static std::optional<std::uint64_t> parse(std::string_view text);
    /// Both counters of a schedstat line.
    [[nodiscard]] static std::optional<Line> parse_line(std::string_view text);
    /// The thread's schedstat line (its file opened by open()): read once per tick, the same
    /// line again for every later look in that tick (the idle pre-check, the on-CPU check and
    /// the CPU-time delta share one pread).
    [[nodiscard]] std::optional<Line> read_line(Tid tid);
    /// Starts a tick: the next read_line() of each thread reads its file again. Until the
    /// first call every read_line() reads the file.
    void begin_tick() noexcept { ++tick_; }

    bool open(Tid tid) override;
    [[nodiscard]] std::optional<std::uint64_t> read(Tid tid) override;
    void close(Tid tid) override;

  private:
    struct Cached {
        std::uint64_t tick = 0;
        Line line;
    };
    process::ThreadFiles files_;
    std::unordered_map<Tid, Cached> cached_;
    std::uint64_t tick_ = 0; ///< 0: no tick begun, nothing served from cached_
};

} // namespace cpuprof::sampling
