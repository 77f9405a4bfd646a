#pragma once

#include "cpuprof/sampling/deadline_timers.hpp"

#include <atomic>
#include <cstdint>
#include <ctime>
#include <optional>

namespace cpuprof::sampling {

/// What one wake-up of the ticker found.
struct Tick {
    std::uint64_t index = 0; ///< number of the deadline being serviced (0, 1, 2 ...)
    std::uint64_t lost = 0;  ///< deadlines skipped since the previous tick (sampler behind)
    bool late = false;       ///< serviced more than half a period after its deadline
};

/// Wakes once per period on CLOCK_MONOTONIC at absolute deadlines, so time spent sampling never
/// accumulates as drift, and sleeps (never spins) in between. With jitter, deadline k is at a
/// random point of period k (start + k * period + U[0, period)): the mean rate is exact, but a
/// program doing periodic work cannot alias with the sampler and show a false split. When the
/// sampler falls more than a period behind, the missed deadlines are skipped and counted as
/// lost rather than bunched up.
///
/// A period shorter than the kernel's tick is slept on DeadlineTimers, with the deadline after
/// the next one known in advance (its jitter is drawn a period ahead): there the next deadline
/// is usually the CPU's earliest timer, and clock_nanosleep would write the timer hardware at
/// most ticks (1 kHz under HZ=250 here: 0.73 writes per tick). At the tick's period or longer
/// the tick is pending first anyway, clock_nanosleep writes nothing either, and it is the one
/// system call; it also serves deadlines more than a stop check away, and any rate when no
/// timerfd could be opened.
class Ticker {
  public:
    explicit Ticker(double rate_hz, bool jitter = true);

    /// Sleeps until the next deadline; returns false when interrupted by `stop` being set
    /// (checked at least every 50 ms).
    bool wait(Tick& tick, const std::atomic<bool>* stop = nullptr);

    /// Pure bookkeeping for a wake-up at `now_ns`, exposed for unit tests: advances the next
    /// deadline and fills `tick`.
    void account(std::int64_t now_ns, Tick& tick);

    [[nodiscard]] std::int64_t period_ns() const noexcept { return period_ns_; }
    /// Whether the sleeps go to the two timers (see above) rather than clock_nanosleep.
    [[nodiscard]] bool sleeps_on_timer_pair() const noexcept {
        return timers_ && timers_->usable();
    }
    /// The next deadline (with its jitter).
    [[nodiscard]] std::int64_t next_deadline_ns() const noexcept { return next_ns_ + offset_ns_; }
    /// The deadline after that one, should no tick be lost.
    [[nodiscard]] std::int64_t following_deadline_ns() const noexcept {
        return next_ns_ + period_ns_ + following_offset_ns_;
    }
    void start_at(std::int64_t now_ns);
    /// The calling thread has moved to another CPU: the timers already armed for the coming
    /// deadlines are armed again from there (clock_nanosleep arms its timer at each sleep).
    void rearm_here() {
        if (sleeps_on_timer_pair()) {
            timers_->rearm_here();
        }
    }
    /// Goes on after a pause: the next deadline falls in the period starting at `now_ns`, and
    /// the deadlines of the pause are skipped without being counted as lost (tick indexes keep
    /// counting periods, so a timeline shows the gap).
    void resume_at(std::int64_t now_ns);

  private:
    std::int64_t draw_offset() noexcept;

    std::int64_t period_ns_;
    bool jitter_;
    std::int64_t next_ns_ = 0;             ///< start of the period of the next deadline
    std::int64_t offset_ns_ = 0;           ///< where in that period the deadline falls
    std::int64_t following_offset_ns_ = 0; ///< the same for the period after it
    std::uint64_t index_ = 0;
    std::uint64_t random_state_ = 0x9e3779b97f4a7c15ULL;
    std::optional<DeadlineTimers> timers_; ///< when the period is shorter than the tick
};

/// The kernel's tick period (1/HZ, the resolution of its coarse clocks); 0 if unknown.
[[nodiscard]] std::int64_t kernel_tick_ns();

/// CLOCK_MONOTONIC in nanoseconds.
[[nodiscard]] std::int64_t monotonic_ns();

} // namespace cpuprof::sampling
