#pragma once

#include "cpuprof/types.hpp"

#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cpuprof::process {

/// A thread held in a ptrace stop, and the signal to hand back to it when it is let go.
struct StoppedThread {
    Tid tid = 0;
    int pending_signal = 0; ///< a signal the stop intercepted: re-delivered on detach, never lost
};

/// Stops one thread with PTRACE_SEIZE + PTRACE_INTERRUPT and waits (at most 100 ms) for the stop.
/// Returns nullopt when the thread no longer exists, is exiting, or did not stop in time. Throws
/// PermissionError (EPERM: no privilege, Yama, or another tracer) or TargetError. The caller must
/// call `release_thread` from the same OS thread.
[[nodiscard]] std::optional<StoppedThread> stop_thread(Pid pid, Tid tid);

/// The second half of `stop_thread`, for a thread the calling OS thread has already seized:
/// PTRACE_INTERRUPT, then wait for its first stop. Returns nullopt when the thread exited.
[[nodiscard]] std::optional<StoppedThread> interrupt_seized_thread(Tid tid);

/// Detaches a thread stopped by `stop_thread`, re-injecting its pending signal. Never throws: a
/// thread killed meanwhile is reaped (briefly waited for), as only its tracer can.
void release_thread(const StoppedThread& thread) noexcept;

/// Lets go of what earlier stops on this OS thread left behind: a thread that reached its stop
/// after `stop_thread` stopped waiting (detached), or died (reaped). `stop_thread` calls it first;
/// a sampler calls it every tick, so that such a thread is never held longer than a tick.
void settle_tracees() noexcept;

/// The signal a ptrace stop reported by waitpid must be given back on detach: 0 for the stop we
/// asked for (PTRACE_EVENT_STOP, including a group-stop, which the kernel re-establishes by
/// itself on detach), the signal number for a signal-delivery-stop.
[[nodiscard]] int signal_to_reinject(int wait_status) noexcept;

/// The one-line EPERM message: names ptrace and CAP_SYS_PTRACE, Yama when `yama_scope` > 0 and
/// we are not root, and the other tracer when `tracer` is non-zero.
[[nodiscard]] std::string
ptrace_permission_message(Pid pid, Tid tid, int yama_scope, bool is_root, Pid tracer);

/// Holds a set of threads of one process in ptrace stops for its lifetime; the destructor detaches
/// them and the target carries on. Because the threads are seized (not PTRACE_ATTACHed), the kernel
/// detaches them by itself if cpuprof dies, even by SIGKILL: the target is never left stopped.
/// ptrace binds a tracee to the tracing OS thread, so a session must end on the thread that
/// created it.
class PtraceSession {
  public:
    /// Stops every thread in `tids`; threads that exit meanwhile are skipped. Throws like
    /// `stop_thread`, after letting go of the threads it had already stopped.
    PtraceSession(Pid pid, std::span<const Tid> tids);
    ~PtraceSession();

    PtraceSession(const PtraceSession&) = delete;
    PtraceSession& operator=(const PtraceSession&) = delete;
    PtraceSession(PtraceSession&&) = delete;
    PtraceSession& operator=(PtraceSession&&) = delete;

    [[nodiscard]] Pid pid() const noexcept { return pid_; }
    /// The threads actually stopped, in the order they were given.
    [[nodiscard]] std::span<const StoppedThread> threads() const noexcept { return threads_; }
    [[nodiscard]] bool holds(Tid tid) const noexcept;

  private:
    void release_all() noexcept;

    Pid pid_;
    std::vector<StoppedThread> threads_;
};

/// The single-thread form of PtraceSession: no allocation, for stopping threads one at a time.
class ThreadStop {
  public:
    ThreadStop(Pid pid, Tid tid)
        : thread_(stop_thread(pid, tid)) {}
    ~ThreadStop() {
        if (thread_) {
            release_thread(*thread_);
        }
    }

    ThreadStop(const ThreadStop&) = delete;
    ThreadStop& operator=(const ThreadStop&) = delete;
    ThreadStop(ThreadStop&&) = delete;
    ThreadStop& operator=(ThreadStop&&) = delete;

    /// False when the thread had already exited.
    [[nodiscard]] bool stopped() const noexcept { return thread_.has_value(); }
    [[nodiscard]] int pending_signal() const noexcept {
        return thread_ ? thread_->pending_signal : 0;
    }

  private:
    std::optional<StoppedThread> thread_;
};

} // namespace cpuprof::process
