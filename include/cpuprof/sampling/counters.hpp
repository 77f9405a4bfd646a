#pragma once

#include "cpuprof/process/thread_files.hpp"
#include "cpuprof/profile/profile.hpp"
#include "cpuprof/types.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace cpuprof::sampling {

/// A per-thread monotonically increasing counter of the target (instructions, CPU nanoseconds).
class CounterSource {
  public:
    virtual ~CounterSource() = default;
    /// Starts counting thread `tid`; false when it cannot be counted.
    virtual bool open(Tid tid) = 0;
    /// The thread's current value, nullopt when it cannot be read (thread gone).
    [[nodiscard]] virtual std::optional<std::uint64_t> read(Tid tid) = 0;
    virtual void close(Tid tid) = 0;
};

/// perf_event_open counters, one fd per target thread, user space only, read with read(2).
class PerfCounterSource final : public CounterSource {
  public:
    enum class Event { Instructions, TaskClock };
    explicit PerfCounterSource(Event event)
        : event_(event) {}

    /// Tries to open the event for `tid`; on failure returns the errno text (e.g. "no hardware
    /// instruction counter on this machine (perf_event_open: ENOENT)").
    [[nodiscard]] static std::optional<std::string> probe(Event event, Tid tid);

    bool open(Tid tid) override;
    [[nodiscard]] std::optional<std::uint64_t> read(Tid tid) override;
    void close(Tid tid) override;

  private:
    Event event_;
    process::ThreadFiles files_;
};

/// Turns counter readings into per-sample deltas: the increase since the thread's previous
/// sample goes to the stack sampled now. A thread's first reading only sets its baseline.
class DeltaAttributor {
  public:
    explicit DeltaAttributor(CounterSource& source)
        : source_(source) {}

    /// The delta for `tid` since its previous call (0 on the first call or when unreadable).
    [[nodiscard]] std::uint64_t delta(Tid tid);
    /// Forgets a thread that has exited.
    void forget(Tid tid);

  private:
    CounterSource& source_;
    std::unordered_map<Tid, std::uint64_t> last_;
    std::unordered_set<Tid> unavailable_; ///< threads whose counter could not be opened
};

} // namespace cpuprof::sampling
