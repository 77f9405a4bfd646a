#pragma once

#include <array>
#include <cstdint>

namespace cpuprof::sampling {

/// Sleeps to absolute CLOCK_MONOTONIC deadlines on two timerfds used in turn: while the thread
/// waits for one deadline, the one after it is already armed on the other timer. Arming a timer
/// that is not the earliest one pending on its CPU leaves the CPU's timer hardware as it is,
/// whereas a clock_nanosleep to the next deadline arms the earliest one whenever nothing else is
/// due sooner, and the kernel writes the new expiry to the hardware (the TSC-deadline MSR; on a
/// VM each write is an exit to the hypervisor, 5-15 µs on these machines, charged to the thread
/// that sleeps). The expiry of the pending timer then
/// programs the next one from the timer interrupt, where the kernel reprograms anyway.
class DeadlineTimers {
  public:
    /// Opens the two timers; usable() says whether that worked.
    DeadlineTimers();
    ~DeadlineTimers();
    DeadlineTimers(const DeadlineTimers&) = delete;
    DeadlineTimers& operator=(const DeadlineTimers&) = delete;

    [[nodiscard]] bool usable() const noexcept { return fds_[0] >= 0 && fds_[1] >= 0; }

    /// Blocks until `deadline`, with `following` (a later deadline) armed on the other timer
    /// meanwhile. Returns true once the deadline has passed; false when a signal interrupted
    /// the wait or a timer failed (then usable() is false from now on).
    bool sleep_until(std::int64_t deadline_ns, std::int64_t following_ns);

    /// Arms the pending deadlines again from the calling thread's CPU: a timer fires on the CPU
    /// it was armed on, and the kernel wakes its sleeper there when that CPU is idle, so a
    /// thread that has moved to another CPU moves its timers with it. Returns false when a
    /// timer failed (then usable() is false).
    bool rearm_here();

    /// The deadline each timer is armed for, kNotArmed if none (for tests).
    [[nodiscard]] std::int64_t armed(int timer) const noexcept { return armed_[timer]; }
    static constexpr std::int64_t kNotArmed = -1;

  private:
    bool arm(int timer, std::int64_t deadline_ns);
    void close_all() noexcept;

    std::array<int, 2> fds_{-1, -1};
    std::array<std::int64_t, 2> armed_{kNotArmed, kNotArmed};
};

} // namespace cpuprof::sampling
