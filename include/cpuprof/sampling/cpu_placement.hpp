#pragma once

#include <cstdint>
#include <optional>
#include <sched.h>

namespace cpuprof::sampling {

/// Keeps the sampling thread off the CPUs the target's threads are running on.
///
/// The kernel wakes the sampler on the CPU its timer fires on, or on the one it last ran on,
/// whenever either is idle; both are the CPU it slept on. A running target thread that moves to
/// that CPU meanwhile (a GIL hand-over moves the running thread between CPUs every few
/// milliseconds) leaves neither idle, and the kernel's search for another idle CPU is rationed
/// when the last-level cache is half busy: the sampler then wakes beside that thread and takes
/// its CPU at every tick until the thread moves away (4 GIL-bound threads on 2 vCPUs: 36 % of
/// the ticks, by the kernel's own trace). Each tick marks the CPUs its running target threads
/// are on; a sampler that finds itself on one of them while a CPU it may use is free restricts
/// itself to the free CPUs, which moves it there at once, and lifts the restriction again: the
/// kernel wakes it where it now sleeps, or, once a target thread lands there, on the CPU it was
/// moved from if that one is idle.
class CpuPlacement {
  public:
    /// Takes the calling thread's CPU affinity as the CPUs it may use.
    CpuPlacement();

    /// More than one CPU to choose from: otherwise settle() never moves the thread.
    [[nodiscard]] bool can_move() const noexcept { return CPU_COUNT(&allowed_) > 1; }

    /// Starts a tick: no CPU is marked busy.
    void begin_tick() noexcept {
        CPU_ZERO(&busy_);
        counted_ = false;
    }
    /// A target thread runs on `cpu`.
    void mark_busy(unsigned cpu) noexcept;

    /// Moves the calling thread (the one that constructed this) off a busy CPU when a free one
    /// is allowed, and restores its affinity to every allowed CPU right after the move (or lifts
    /// a restriction left by a failed restore). Returns true when its affinity changed: the
    /// thread may be on another CPU now.
    bool settle();

    /// Ticks at which the thread was found on a busy CPU (once each, however many settle()
    /// calls), and moves made.
    [[nodiscard]] std::uint64_t colocated() const noexcept { return colocated_; }
    [[nodiscard]] std::uint64_t moves() const noexcept { return moves_; }

    /// The decision alone: the affinity to set for a thread on `cpu` allowed `allowed`,
    /// restricted to `current` now, when the target runs on `busy`; nullopt to leave it.
    [[nodiscard]] static std::optional<cpu_set_t>
    decide(const cpu_set_t& allowed, const cpu_set_t& current, const cpu_set_t& busy, int cpu);

  private:
    cpu_set_t allowed_{};
    cpu_set_t current_{};
    cpu_set_t busy_{};
    bool counted_ = false; ///< colocated_ counted this tick
    std::uint64_t colocated_ = 0;
    std::uint64_t moves_ = 0;
};

} // namespace cpuprof::sampling
