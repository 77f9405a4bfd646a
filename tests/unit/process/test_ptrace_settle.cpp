// stop_thread never waits without bound, and what it could not wait for is let go later: a
// vfork() parent cannot stop until its child execs or exits, which stands in for any thread
// that does not reach its stop in time (uninterruptible sleep, an execve that renames it).
#include "cpuprof/process/ptrace_session.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace cpuprof;
using namespace std::chrono_literals;

namespace {

struct Status {
    char state = '?';
    Pid tracer = -1;
};

Status status_of(Pid pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    Status status;
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("State:")) {
            status.state = line[line.find_first_not_of(" \t", 6)];
        } else if (line.starts_with("TracerPid:")) {
            status.tracer = static_cast<Pid>(std::stol(line.substr(10)));
        }
    }
    return status;
}

/// A child that sits in vfork() for `hold`: its vfork child sleeps, then exits; then it exits 0.
Pid start_vfork_parent(std::chrono::milliseconds hold) {
    const Pid pid = ::fork();
    if (pid == 0) {
        const timespec nap{static_cast<time_t>(hold.count() / 1000),
                           static_cast<long>(hold.count() % 1000) * 1'000'000};
        if (::vfork() == 0) {
            ::nanosleep(&nap, nullptr);
            ::_exit(0);
        }
        ::_exit(0);
    }
    return pid;
}

} // namespace

TEST_CASE("stop_thread gives up on a thread that cannot stop, and settle lets it go later",
          "[process][ptrace]") {
    const Pid pid = start_vfork_parent(1500ms);
    REQUIRE(pid > 0);
    // Wait until it sits in vfork (state D: killable, so a ptrace interrupt cannot stop it).
    for (int i = 0; i < 500 && status_of(pid).state != 'D'; ++i) {
        std::this_thread::sleep_for(2ms);
    }
    REQUIRE(status_of(pid).state == 'D');

    const auto started = std::chrono::steady_clock::now();
    const auto stopped = process::stop_thread(pid, pid);
    const auto waited = std::chrono::steady_clock::now() - started;
    CHECK_FALSE(stopped.has_value());
    CHECK(waited >= 90ms);
    CHECK(waited < 1000ms);
    // Still ours: the interrupt is pending.
    CHECK(status_of(pid).tracer == ::gettid());

    // Once vfork returns, the pending interrupt stops it; settle_tracees() detaches it and it
    // runs on to its exit.
    bool let_go = false;
    for (int i = 0; i < 1000 && !let_go; ++i) {
        process::settle_tracees();
        const Status now = status_of(pid);
        let_go = now.tracer == 0 && now.state != 't';
        std::this_thread::sleep_for(5ms);
    }
    CHECK(let_go);
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a thread killed while stopped is reaped, so that nothing waits on it",
          "[process][ptrace]") {
    // The child's own thread is stopped, then SIGKILLed: its tracer (this thread) must reap it,
    // or its parent (also this thread here) would see no exit.
    const Pid pid = ::fork();
    if (pid == 0) {
        for (;;) {
            ::pause();
        }
    }
    REQUIRE(pid > 0);
    {
        process::ThreadStop stop(pid, pid);
        REQUIRE(stop.stopped());
        REQUIRE(::kill(pid, SIGKILL) == 0);
        // Let the kill land while it is held.
        for (int i = 0; i < 500 && status_of(pid).state == 't'; ++i) {
            std::this_thread::sleep_for(1ms);
        }
    }
    // Released (and reaped) by ThreadStop: no zombie is left behind for anyone.
    int status = 0;
    const pid_t got = ::waitpid(pid, &status, WNOHANG);
    CHECK((got == -1 && errno == ECHILD));
}
