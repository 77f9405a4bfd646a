#include "cpuprof/process/ptrace_session.hpp"

#include "cpuprof/error.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <string>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <thread>
#include <time.h>
#include <unistd.h>

namespace cpuprof::process {

namespace {

// 0 when Yama is not built into the kernel: then only the classic ptrace rules apply.
int read_yama_scope() {
    std::ifstream in("/proc/sys/kernel/yama/ptrace_scope");
    int scope = 0;
    if (!(in >> scope)) {
        return 0;
    }
    return scope;
}

struct ThreadStatus {
    bool exists = false;
    char state = '?';
    Pid tracer = 0; ///< the tracing thread's id: a second tracer is the other common cause of EPERM
};

ThreadStatus read_thread_status(Pid pid, Tid tid) {
    std::ifstream in(fmt::format("/proc/{}/task/{}/status", pid, tid));
    ThreadStatus status;
    std::string line;
    while (std::getline(in, line)) {
        status.exists = true;
        if (line.starts_with("State:") && line.size() > 7) {
            status.state = line[line.find_first_not_of(" \t", 6)];
        } else if (line.starts_with("TracerPid:")) {
            try {
                status.tracer = static_cast<Pid>(std::stol(line.substr(line.find(':') + 1)));
            } catch (const std::exception&) {
                status.tracer = 0;
            }
        }
    }
    return status;
}

// How long a thread gets to reach the stop we asked for. A running thread stops within
// microseconds; one that has not by then is in an uninterruptible sleep or changed its id in an
// execve, and is left to settle_tracees() rather than blocking the sampler on it.
constexpr auto kStopWait = std::chrono::milliseconds(100);

void ignore_signal(int) {}

// The stop is waited for with a blocking waitpid(), which wakes the moment the thread stops
// (polling would add tens of microseconds to every pause of the target), bounded by a timer that
// sends this thread a signal whose handler does nothing, so that waitpid() returns EINTR.
class StopWaitTimer {
  public:
    StopWaitTimer() = default;
    ~StopWaitTimer() {
        if (owner_ == ::gettid()) {
            ::timer_delete(timer_);
        }
    }
    StopWaitTimer(const StopWaitTimer&) = delete;
    StopWaitTimer& operator=(const StopWaitTimer&) = delete;

    /// Fires once after `delay`; zero disarms it. False when no timer could be made.
    bool set(std::chrono::nanoseconds delay) noexcept {
        // Made on first use, and again in a forked child: timers are not inherited by fork().
        if (owner_ != ::gettid() && !create()) {
            return false;
        }
        itimerspec spec{};
        spec.it_value.tv_sec = static_cast<time_t>(delay.count() / 1'000'000'000);
        spec.it_value.tv_nsec = static_cast<long>(delay.count() % 1'000'000'000);
        return ::timer_settime(timer_, 0, &spec, nullptr) == 0;
    }

  private:
    bool create() noexcept {
        static const int signal = [] {
            const int chosen = SIGRTMIN + 7;
            struct sigaction action {};
            action.sa_handler = ignore_signal; // and no SA_RESTART: the wait must end
            sigemptyset(&action.sa_mask);
            ::sigaction(chosen, &action, nullptr);
            return chosen;
        }();
        sigevent event{};
        event.sigev_notify = SIGEV_THREAD_ID;
        event.sigev_signo = signal;
        event._sigev_un._tid = ::gettid();
        owner_ = ::timer_create(CLOCK_MONOTONIC, &event, &timer_) == 0 ? ::gettid() : 0;
        return owner_ != 0;
    }

    timer_t timer_{};
    pid_t owner_ = 0; ///< the thread the timer signals, 0 before it exists
};

// waitpid(tid) that gives up at `deadline`; returns what waitpid returned, 0 on timeout.
pid_t wait_until(Tid tid, int& status, std::chrono::steady_clock::time_point deadline) {
    thread_local StopWaitTimer timer;
    auto pause = std::chrono::microseconds(20);
    for (;;) {
        const auto left = deadline - std::chrono::steady_clock::now();
        if (left <= std::chrono::nanoseconds::zero()) {
            return ::waitpid(tid, &status, __WALL | WNOHANG); // a last look that cannot block
        }
        if (!timer.set(left)) {
            // No timer: poll instead, slower but just as bounded.
            const pid_t got = ::waitpid(tid, &status, __WALL | WNOHANG);
            if (got != 0) {
                return got;
            }
            std::this_thread::sleep_for(pause);
            pause = std::min(pause * 2, std::chrono::microseconds(1000));
            continue;
        }
        const pid_t got = ::waitpid(tid, &status, __WALL);
        const int err = errno;
        timer.set(std::chrono::nanoseconds::zero());
        if (got >= 0 || err != EINTR) {
            errno = err;
            return got;
        }
    }
}

// How long a thread killed while stopped gets to become a zombie that we reap.
constexpr auto kReapWait = std::chrono::milliseconds(100);

// Threads this OS thread seized and has not yet seen detached or reaped (ptrace binds a tracee
// to the tracing thread, hence thread_local). A tracee killed while stopped stays a zombie until
// its tracer reaps it, and an execve in the target waits for every such zombie: left alone, it
// would hang the target's execve, and then our next PTRACE_SEIZE, which waits for the execve.
struct Unsettled {
    Pid pid;
    Tid tid;
};
thread_local std::vector<Unsettled> t_unsettled;

void forget(Tid tid) noexcept {
    std::erase_if(t_unsettled, [tid](const Unsettled& u) { return u.tid == tid; });
}

bool is_unsettled(Tid tid) noexcept {
    return std::any_of(t_unsettled.begin(), t_unsettled.end(),
                       [tid](const Unsettled& u) { return u.tid == tid; });
}

void* signal_argument(int signal) {
    return reinterpret_cast<void*>(static_cast<std::intptr_t>(signal));
}

// One look at an unsettled thread; true when it is no longer ours (detached or reaped).
bool settle(Unsettled& u) noexcept {
    int status = 0;
    // __WNOTHREAD: only this thread's tracees, never a child another thread of cpuprof waits for.
    const pid_t got = ::waitpid(u.tid, &status, __WALL | __WNOTHREAD | WNOHANG);
    if (got == u.tid) {
        if (WIFSTOPPED(status)) {
            // A stop that came after we stopped waiting for it; ESRCH: killed meanwhile.
            return ::ptrace(PTRACE_DETACH, u.tid, nullptr,
                            signal_argument(signal_to_reinject(status))) == 0;
        }
        return true; // it exited and is reaped
    }
    if (u.tid != u.pid && (got < 0 || !read_thread_status(u.pid, u.tid).exists)) {
        // A thread that calls execve takes over its process's id: look for it there next.
        u.tid = u.pid;
        return false;
    }
    return got < 0;
}

// Waits briefly until none of `tids` (killed while stopped) is left to reap.
void reap_killed(std::span<const Tid> tids) noexcept {
    const auto deadline = std::chrono::steady_clock::now() + kReapWait;
    auto pause = std::chrono::microseconds(20);
    for (;;) {
        settle_tracees();
        if (std::none_of(tids.begin(), tids.end(), is_unsettled) ||
            std::chrono::steady_clock::now() >= deadline) {
            return;
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::microseconds(2000));
    }
}

[[noreturn]] void throw_seize_error(Pid pid, Tid tid, int err) {
    if (err == EPERM) {
        throw PermissionError(ptrace_permission_message(
            pid, tid, read_yama_scope(), ::geteuid() == 0, read_thread_status(pid, tid).tracer));
    }
    throw TargetError(fmt::format("cannot ptrace pid {} (thread {}): {}; check that the process "
                                  "is alive and not a kernel thread",
                                  pid, tid, std::strerror(err)));
}

} // namespace

int signal_to_reinject(int wait_status) noexcept {
    if (!WIFSTOPPED(wait_status)) {
        return 0;
    }
    // Any PTRACE_EVENT_* stop is ours; only a plain signal-delivery-stop carries a real signal.
    if ((wait_status >> 16) != 0) {
        return 0;
    }
    return WSTOPSIG(wait_status);
}

std::string ptrace_permission_message(Pid pid, Tid tid, int yama_scope, bool is_root, Pid tracer) {
    std::string message =
        fmt::format("cannot ptrace pid {} (thread {}): permission denied (EPERM)", pid, tid);
    if (tracer != 0) {
        message += fmt::format("; it is already traced by pid {} (a debugger or another profiler): "
                               "detach that first",
                               tracer);
    }
    message += "; run cpuprof as root or grant it CAP_SYS_PTRACE "
               "(setcap cap_sys_ptrace+ep \"$(command -v cpuprof)\")";
    if (yama_scope > 0 && !is_root) {
        message += fmt::format("; Yama restricts ptrace here (kernel.yama.ptrace_scope = {}): "
                               "'sysctl kernel.yama.ptrace_scope=0' lifts it",
                               yama_scope);
    }
    return message;
}

std::optional<StoppedThread> stop_thread(Pid pid, Tid tid) {
    settle_tracees();
    if (::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
        const int err = errno;
        if (err == ESRCH) {
            return std::nullopt;
        }
        if (err == EPERM) {
            // A thread that is exiting cannot be seized, nor one still ours from an earlier stop:
            // skip those; anything else is a real permission problem.
            const ThreadStatus status = read_thread_status(pid, tid);
            if (!status.exists || status.state == 'Z' || status.state == 'X' ||
                (status.tracer != 0 && status.tracer == ::gettid())) {
                return std::nullopt;
            }
        }
        throw_seize_error(pid, tid, err);
    }
    t_unsettled.push_back({pid, tid});
    return interrupt_seized_thread(tid);
}

std::optional<StoppedThread> interrupt_seized_thread(Tid tid) {
    if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
        // ESRCH: the thread is already past the point where it can stop (it is exiting).
        return std::nullopt;
    }
    // The first stop reported is the one to use: our interrupt, a group-stop, or a signal the
    // thread dequeued after the seize and before the interrupt (then the interrupt is dropped
    // on detach and that signal is handed back). Never an unbounded wait: a thread that was
    // already inside execve reports its stop under its process's id, and a waitpid() on its old
    // id would never return.
    int status = 0;
    const pid_t got = wait_until(tid, status, std::chrono::steady_clock::now() + kStopWait);
    if (got == tid && WIFSTOPPED(status)) {
        return StoppedThread{tid, signal_to_reinject(status)};
    }
    if (got == tid) {
        forget(tid); // it exited, and is reaped
    }
    // ECHILD: it exited and was reaped in between; 0: still ours, and settle_tracees() lets it
    // go when it stops.
    return std::nullopt;
}

void release_thread(const StoppedThread& thread) noexcept {
    if (::ptrace(PTRACE_DETACH, thread.tid, nullptr, signal_argument(thread.pending_signal)) == 0) {
        forget(thread.tid);
        return;
    }
    // ESRCH: it was killed while stopped, and only we can reap it.
    const Tid killed[] = {thread.tid};
    reap_killed(killed);
}

void settle_tracees() noexcept {
    std::erase_if(t_unsettled, [](Unsettled& u) { return settle(u); });
}

PtraceSession::PtraceSession(Pid pid, std::span<const Tid> tids)
    : pid_(pid) {
    threads_.reserve(tids.size());
    try {
        for (Tid tid : tids) {
            if (auto stopped = stop_thread(pid, tid)) {
                threads_.push_back(*stopped);
            }
        }
    } catch (...) {
        release_all();
        throw;
    }
}

PtraceSession::~PtraceSession() {
    release_all();
}

bool PtraceSession::holds(Tid tid) const noexcept {
    return std::any_of(threads_.begin(), threads_.end(),
                       [tid](const StoppedThread& t) { return t.tid == tid; });
}

void PtraceSession::release_all() noexcept {
    // Detach everything first, then reap the killed ones together: a killed leader can only be
    // reaped after its killed threads.
    std::vector<Tid> killed;
    for (const StoppedThread& thread : threads_) {
        if (::ptrace(PTRACE_DETACH, thread.tid, nullptr, signal_argument(thread.pending_signal)) ==
            0) {
            forget(thread.tid);
        } else {
            killed.push_back(thread.tid);
        }
    }
    if (!killed.empty()) {
        reap_killed(killed);
    }
    threads_.clear();
}

} // namespace cpuprof::process
