// A neighbour that costs the CPU a sampler costs and does nothing else: it wakes at RATE_HZ to
// absolute deadlines and spends SPIN_US of its own CPU time at each wake-up, never touching
// another process. Run beside the benchmark's work in place of cpuprof (bench.py, paired
// rounds), it tells how much of cpuprof's slowdown of the work is only a second busy vCPU:
// on a VM the vCPUs share physical cores and the host, so any neighbour's CPU slows the work a
// little, whatever it does.
//   neighbour RATE_HZ SPIN_US
// It sleeps to its deadlines on cpuprof's own ticker (sampling::Ticker).
// Like `cpuprof record`, SIGUSR1 pauses it and SIGUSR2 resumes it, and like cpuprof's sampler
// it does not wake at all while paused: the paired rounds then compare the work beside a
// process that wakes at RATE_HZ with the work alone, the wake-ups included (on these VMs a
// process that only wakes at 1 kHz slows a multi-threaded GIL-bound work by 1-3 %). On
// SIGTERM or SIGINT it prints one JSON line, {"rate_hz": 1000, "wakeups": N,
// "cpu_per_wakeup_us": ...}, counting the wake-ups while not paused, and exits.
#include "cpuprof/sampling/ticker.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <initializer_list>

namespace {

volatile sig_atomic_t paused = 0;
volatile sig_atomic_t stop = 0;

long long to_ns(const timespec& t) {
    return static_cast<long long>(t.tv_sec) * 1'000'000'000LL + t.tv_nsec;
}

long long thread_cpu_ns() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return to_ns(t);
}

void on_signal(int sig) {
    if (sig == SIGUSR1) {
        paused = 1;
    } else if (sig == SIGUSR2) {
        paused = 0;
    } else {
        stop = 1;
    }
}

// Sleeps, without waking, until SIGUSR2 (or SIGTERM, SIGINT) arrives. The signals are blocked
// between the look at the flags and sigsuspend, so none is missed in between.
void wait_until_resumed() {
    sigset_t wake{};
    sigset_t old{};
    sigemptyset(&wake);
    for (int sig : {SIGUSR2, SIGTERM, SIGINT}) {
        sigaddset(&wake, sig);
    }
    sigprocmask(SIG_BLOCK, &wake, &old);
    while (paused != 0 && stop == 0) {
        sigsuspend(&old);
    }
    sigprocmask(SIG_SETMASK, &old, nullptr);
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fputs("usage: neighbour RATE_HZ SPIN_US\n", stderr);
        return 2;
    }
    const double rate = std::atof(argv[1]);
    const double spin_us = std::atof(argv[2]);
    if (!(rate > 0 && rate <= 100'000 && spin_us >= 0 && spin_us < 1e6 / rate)) {
        std::fputs("neighbour: RATE_HZ in (0, 100000], SPIN_US in [0, the period)\n", stderr);
        return 2;
    }
    struct sigaction action {};
    action.sa_handler = on_signal;
    for (int sig : {SIGUSR1, SIGUSR2, SIGTERM, SIGINT}) {
        sigaction(sig, &action, nullptr);
    }
    const auto spin = static_cast<long long>(spin_us * 1e3);
    long long wakeups = 0;
    long long cpu_ns = 0;
    long long mark = thread_cpu_ns();
    cpuprof::sampling::Ticker ticker(rate);
    cpuprof::sampling::Tick tick;
    while (stop == 0) {
        if (paused != 0) {
            wait_until_resumed();
            ticker.resume_at(cpuprof::sampling::monotonic_ns()); // as cpuprof's sampler does
            mark = thread_cpu_ns();
            continue;
        }
        ticker.wait(tick); // a signal ends no sleep early: its flag is seen at the deadline
        const long long woke = thread_cpu_ns();
        if (paused != 0) {
            continue; // paused during the sleep: this wake-up is not counted
        }
        while (thread_cpu_ns() - woke < spin) {
        }
        const long long done = thread_cpu_ns();
        cpu_ns += done - mark; // the sleep's own cost included, as cpuprof's would be
        mark = done;
        ++wakeups;
    }
    std::printf(
        "{\"rate_hz\": %g, \"spin_us\": %g, \"wakeups\": %lld, \"cpu_per_wakeup_us\": %.2f}\n",
        rate, spin_us, wakeups,
        wakeups > 0 ? static_cast<double>(cpu_ns) / 1e3 / static_cast<double>(wakeups) : 0.0);
    return 0;
}
