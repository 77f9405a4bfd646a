#pragma once

#include "cpuprof/sampling/schedstat.hpp"
#include "cpuprof/types.hpp"

#include <optional>
#include <unordered_map>

namespace cpuprof::sampling {

/// Whether a thread is on a CPU, carried over from the previous look while the scheduler has not
/// moved it since. Putting a thread on a CPU counts in its schedstat's third field and taking it
/// off adds to its runtime, the first: when neither changed, the thread is where it was at the
/// last look (on a CPU or runnable, or asleep), and its stat line need not be asked again.
///
/// The runtime alone does not tell: a thread that stays on a CPU has its runtime brought up to
/// date only at the scheduler's tick (every 4 ms at HZ=250), so at 1 kHz it looks unchanged in
/// three reads out of four. Taken for idle, threads running C code without the GIL were sampled
/// at a tenth of their CPU share.
class OnCpuMemo {
  public:
    using Line = SchedstatCpuSource::Line;

    /// The state last recorded for `tid` when its schedstat still reads `now`, else nullopt
    /// (never looked at, or moved since: ask its stat line).
    [[nodiscard]] std::optional<bool> carried(Tid tid, const Line& now) const;
    /// What the stat line said, with the schedstat read just before it. Should the thread move
    /// in between, its schedstat has changed too, so the next look asks again.
    void record(Tid tid, const Line& before, bool on_cpu);
    void forget(Tid tid);
    /// The state of the thread's last look, whatever its schedstat reads now.
    [[nodiscard]] std::optional<bool> last(Tid tid) const;

  private:
    struct Look {
        Line line;
        bool on_cpu;
    };
    std::unordered_map<Tid, Look> looks_;
};

} // namespace cpuprof::sampling
