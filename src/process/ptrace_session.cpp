#include "cpuprof/process/ptrace_session.hpp"

#include "cpuprof/error.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <string>
#include <sys/ptrace.h>
#include <sys/wait.h>
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

// A second tracer is the other common cause of EPERM; /proc names it.
Pid read_tracer(Pid pid, Tid tid) {
    std::ifstream in(fmt::format("/proc/{}/task/{}/status", pid, tid));
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("TracerPid:")) {
            try {
                return static_cast<Pid>(std::stol(line.substr(line.find(':') + 1)));
            } catch (const std::exception&) {
                return 0;
            }
        }
    }
    return 0;
}

[[noreturn]] void throw_seize_error(Pid pid, Tid tid, int err) {
    if (err == EPERM) {
        throw PermissionError(ptrace_permission_message(pid, tid, read_yama_scope(),
                                                        ::geteuid() == 0, read_tracer(pid, tid)));
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
    if (::ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
        const int err = errno;
        if (err == ESRCH) {
            return std::nullopt;
        }
        throw_seize_error(pid, tid, err);
    }
    return interrupt_seized_thread(tid);
}

std::optional<StoppedThread> interrupt_seized_thread(Tid tid) {
    if (::ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) {
        // ESRCH: the thread is already past the point where it can stop (it is exiting).
        return std::nullopt;
    }
    // The first stop reported is the one to use: our interrupt, a group-stop, or a signal the
    // thread dequeued after the seize and before the interrupt (then the interrupt is dropped
    // on detach and that signal is handed back).
    for (;;) {
        int status = 0;
        const pid_t got = ::waitpid(tid, &status, __WALL);
        if (got < 0) {
            if (errno == EINTR) {
                continue;
            }
            return std::nullopt; // ECHILD: it exited and was reaped in between
        }
        if (WIFEXITED(status) || WIFSIGNALED(status)) {
            return std::nullopt;
        }
        if (WIFSTOPPED(status)) {
            return StoppedThread{tid, signal_to_reinject(status)};
        }
    }
}

void release_thread(const StoppedThread& thread) noexcept {
    // ESRCH means the thread was killed while stopped; there is nothing left to resume.
    (void)::ptrace(PTRACE_DETACH, thread.tid, nullptr,
                   reinterpret_cast<void*>(static_cast<std::intptr_t>(thread.pending_signal)));
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
    for (const StoppedThread& thread : threads_) {
        release_thread(thread);
    }
    threads_.clear();
}

} // namespace cpuprof::process
