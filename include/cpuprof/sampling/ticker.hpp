#pragma once

#include <cstdint>
#include <atomic>
#include <ctime>

namespace cpuprof::sampling {

/// What one wake-up of the ticker found.
struct Tick {
    std::uint64_t index = 0; ///< number of the deadline being serviced (0, 1, 2 ...)
    std::uint64_t lost = 0;  ///< deadlines skipped since the previous tick (sampler behind)
    bool late = false;       ///< serviced more than half a period after its deadline
};

/// Wakes at absolute deadlines start + k * period on CLOCK_MONOTONIC, so time spent sampling never
/// accumulates as drift, and sleeps (never spins) in between. When the sampler falls more than a
/// period behind, the missed deadlines are skipped and counted as lost rather than bunched up.
class Ticker {
  public:
    explicit Ticker(double rate_hz);

    /// Sleeps until the next deadline; returns false when interrupted by `stop` being set
    /// (checked at least every 50 ms).
    bool wait(Tick& tick, const std::atomic<bool>* stop = nullptr);

    /// Pure bookkeeping for a wake-up at `now_ns`, exposed for unit tests: advances the next
    /// deadline and fills `tick`.
    void account(std::int64_t now_ns, Tick& tick);

    [[nodiscard]] std::int64_t period_ns() const noexcept { return period_ns_; }
    [[nodiscard]] std::int64_t next_deadline_ns() const noexcept { return next_ns_; }
    void start_at(std::int64_t now_ns) { next_ns_ = now_ns; index_ = 0; }

  private:
    std::int64_t period_ns_;
    std::int64_t next_ns_ = 0;
    std::uint64_t index_ = 0;
};

/// CLOCK_MONOTONIC in nanoseconds.
[[nodiscard]] std::int64_t monotonic_ns();

} // namespace cpuprof::sampling
