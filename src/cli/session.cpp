#include "cpuprof/cli/session.hpp"

#include "cpuprof/error.hpp"
#include "cpuprof/process/proc_files.hpp"

#include <csignal>
#include <ctime>
#include <exception>
#include <fmt/format.h>
#include <pthread.h>
#include <thread>

namespace cpuprof::cli {

namespace {
constexpr auto kLaunchWait = std::chrono::seconds(10);

// SIGINT, SIGTERM, SIGHUP stop; SIGUSR1 pauses sampling and SIGUSR2 resumes it.
sigset_t session_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2}) {
        sigaddset(&set, sig);
    }
    return set;
}
} // namespace

Session::Session(const TargetSpec& spec) {
    if (spec.command.empty()) {
        target_ = sampling::Target::attach(spec.pid);
        return;
    }
    child_.emplace(process::ChildProcess::spawn(spec.command));
    try {
        target_ = sampling::Target::attach(child_->pid(), kLaunchWait);
    } catch (const TargetError& e) {
        if (auto status = child_->poll()) {
            throw TargetError(fmt::format("'{}' exited with status {} before its Python "
                                          "interpreter could be read",
                                          spec.command.front(), *status));
        }
        throw;
    }
}

Session::~Session() = default;

std::vector<std::string> Session::command_line() const {
    return process::command_line(target_->pid());
}

sampling::StopReason Session::run_until_stopped(sampling::Sampler& sampler,
                                                const std::function<void()>& tick) {
    // Block the signals before the sampler thread starts so that it inherits the mask and only
    // this thread ever receives them.
    const sigset_t set = session_signals();
    sigset_t previous;
    pthread_sigmask(SIG_BLOCK, &set, &previous);

    std::atomic<bool> done{false};
    sampling::StopReason reason = sampling::StopReason::Stopped;
    // An exception on either thread must neither reach std::terminate (an abort, and no error
    // line) nor leave the sampler running: it is kept and rethrown once the sampler has joined.
    std::exception_ptr sampler_failure;
    std::exception_ptr tick_failure;
    std::thread worker([&] {
        try {
            reason = sampler.run(stop_);
        } catch (...) {
            sampler_failure = std::current_exception();
        }
        done = true;
    });
    const timespec wait{0, 250'000'000};
    while (!done) {
        siginfo_t info;
        if (const int sig = sigtimedwait(&set, &info, &wait); sig == SIGUSR1 || sig == SIGUSR2) {
            sampler.set_paused(sig == SIGUSR1);
        } else if (sig > 0) {
            stop_ = true;
        }
        if (tick && !tick_failure) {
            try {
                tick();
            } catch (...) {
                tick_failure = std::current_exception();
                stop_ = true;
            }
        }
    }
    worker.join();
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    if (sampler_failure) {
        std::rethrow_exception(sampler_failure);
    }
    if (tick_failure) {
        std::rethrow_exception(tick_failure);
    }
    return reason;
}

void Session::finish(sampling::StopReason reason) {
    if (!child_) {
        return;
    }
    if (reason == sampling::StopReason::TargetExited) {
        child_->wait_for(1000);
        return;
    }
    // The recording ended first: the launched command was only there to be profiled.
    child_->terminate();
}

} // namespace cpuprof::cli
