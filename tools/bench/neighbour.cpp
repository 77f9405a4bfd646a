// A neighbour that costs the CPU a sampler costs and does nothing else: it wakes at RATE_HZ to
// absolute deadlines and spends SPIN_US of its own CPU time at each wake-up, never touching
// another process. Run beside the benchmark's work in place of cpuprof (bench.py, paired
// rounds), it tells how much of cpuprof's slowdown of the work is only a second busy vCPU:
// on a VM the vCPUs share physical cores and the host, so any neighbour's CPU slows the work a
// little, whatever it does.
//   neighbour RATE_HZ SPIN_US [--per-cpu]
// It sleeps to its deadlines on cpuprof's own ticker (sampling::Ticker).
// Like `cpuprof record`, SIGUSR1 pauses it and SIGUSR2 resumes it, and like cpuprof's sampler
// it does not wake at all while paused: the paired rounds then compare the work beside a
// process that wakes at RATE_HZ with the work alone, the wake-ups included (on these VMs a
// process that only wakes at 1 kHz slows a multi-threaded GIL-bound work by 1-3 %). On
// SIGTERM or SIGINT it prints one JSON line, {"rate_hz": 1000, "wakeups": N,
// "cpu_per_wakeup_us": ...}, counting the wake-ups while not paused, and exits.
//
// --per-cpu is a way of waking that cpuprof does not use, measured here (bench_neighbours.py)
// to tell what it would give: one thread pinned to each CPU the process may use, each in the
// SCHED_IDLE class and sleeping to the same deadlines (no jitter) on its own CPU's timer. An
// idle CPU runs its thread at once; on a busy CPU the thread does not preempt the running
// task and waits. The first thread awake claims the deadline and spins; the others find it
// claimed and sleep again ("passed"). Its report adds "threads", "passed" and "late" (claimed
// more than half a period after the deadline); "cpu_per_wakeup_us" is all threads' CPU over the
// claimed deadlines.
#include "cpuprof/sampling/ticker.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <initializer_list>
#include <pthread.h>
#include <sched.h>
#include <thread>
#include <unistd.h>
#include <vector>

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

// Burns `ns` of this thread's CPU, counted from `woke` (its CPU time at the wake-up).
void spin_from(long long woke, long long ns) {
    while (thread_cpu_ns() - woke < ns) {
    }
}

double per_wakeup_us(long long cpu_ns, long long wakeups) {
    return wakeups > 0 ? static_cast<double>(cpu_ns) / 1e3 / static_cast<double>(wakeups) : 0.0;
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

// --per-cpu: the state the threads share. The main thread takes the signals (sigwaitinfo) and
// sets `mode`; a paused thread sleeps on it (std::atomic::wait) instead of waking at deadlines.
enum Mode : int { kRunning = 0, kPaused = 1, kStopped = 2 };

struct PerCpuShared {
    double rate = 0;
    long long spin_ns = 0;
    std::int64_t start_ns = 0;
    std::atomic<int> mode{kRunning};
    std::atomic<bool> stop{false};
    std::atomic<long long> claimed_index{-1}; ///< the latest deadline claimed
    std::atomic<long long> wakeups{0};        ///< deadlines claimed while running
    std::atomic<long long> passed{0};         ///< wake-ups that found their deadline claimed
    std::atomic<long long> late{0};
    std::atomic<long long> cpu_ns{0};
    std::atomic<bool> failed{false};
};

// Claims deadline `index` unless a thread claimed it (or a later one) first.
bool claim(std::atomic<long long>& claimed, long long index) {
    long long last = claimed.load();
    while (last < index) {
        if (claimed.compare_exchange_weak(last, index)) {
            return true;
        }
    }
    return false;
}

void per_cpu_thread(int cpu, PerCpuShared& shared) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    sched_param param{};
    if (sched_setaffinity(0, sizeof set, &set) != 0 ||
        sched_setscheduler(0, SCHED_IDLE, &param) != 0) {
        std::fprintf(stderr, "neighbour: cannot pin a thread to CPU %d in SCHED_IDLE: %s\n", cpu,
                     std::strerror(errno));
        shared.failed = true;
        kill(getpid(), SIGTERM); // the main thread's sigwaitinfo ends
        return;
    }
    cpuprof::sampling::Ticker ticker(shared.rate, /*jitter=*/false);
    ticker.start_at(shared.start_ns); // every thread: the same deadlines, the same indexes
    cpuprof::sampling::Tick tick;
    long long mark = thread_cpu_ns();
    for (;;) {
        const int mode = shared.mode.load();
        if (mode == kStopped) {
            break;
        }
        if (mode == kPaused) {
            shared.mode.wait(kPaused);
            ticker.resume_at(cpuprof::sampling::monotonic_ns());
            mark = thread_cpu_ns();
            continue;
        }
        if (!ticker.wait(tick, &shared.stop)) {
            break;
        }
        if (shared.mode.load() != kRunning) {
            continue; // paused during the sleep: this wake-up is not counted
        }
        if (claim(shared.claimed_index, static_cast<long long>(tick.index))) {
            spin_from(thread_cpu_ns(), shared.spin_ns);
            ++shared.wakeups;
            shared.late += tick.late ? 1 : 0;
        } else {
            ++shared.passed;
        }
        const long long done = thread_cpu_ns();
        shared.cpu_ns += done - mark;
        mark = done;
    }
}

int run_per_cpu(double rate, double spin_us) {
    sigset_t signals{};
    sigemptyset(&signals);
    for (int sig : {SIGUSR1, SIGUSR2, SIGTERM, SIGINT}) {
        sigaddset(&signals, sig);
    }
    // Blocked before the threads start, so they inherit the mask and only sigwaitinfo takes them.
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    PerCpuShared shared;
    shared.rate = rate;
    shared.spin_ns = static_cast<long long>(spin_us * 1e3);
    shared.start_ns = cpuprof::sampling::monotonic_ns();
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    sched_getaffinity(0, sizeof allowed, &allowed);
    std::vector<std::thread> threads;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &allowed)) {
            threads.emplace_back(per_cpu_thread, cpu, std::ref(shared));
        }
    }
    for (;;) {
        const int sig = sigwaitinfo(&signals, nullptr);
        if (sig == SIGUSR1) {
            shared.mode = kPaused;
        } else if (sig == SIGUSR2) {
            shared.mode = kRunning;
            shared.mode.notify_all();
        } else if (sig == SIGTERM || sig == SIGINT) {
            break;
        }
    }
    shared.mode = kStopped;
    shared.stop = true;
    shared.mode.notify_all();
    for (auto& thread : threads) {
        thread.join();
    }
    if (shared.failed.load()) {
        return 1;
    }
    const long long wakeups = shared.wakeups.load();
    std::printf("{\"rate_hz\": %g, \"spin_us\": %g, \"per_cpu\": true, \"threads\": %zu, "
                "\"wakeups\": %lld, \"passed\": %lld, \"late\": %lld, "
                "\"cpu_per_wakeup_us\": %.2f}\n",
                rate, spin_us, threads.size(), wakeups, shared.passed.load(), shared.late.load(),
                per_wakeup_us(shared.cpu_ns.load(), wakeups));
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    const bool per_cpu = argc == 4 && std::strcmp(argv[3], "--per-cpu") == 0;
    if (argc != 3 && !per_cpu) {
        std::fputs("usage: neighbour RATE_HZ SPIN_US [--per-cpu]\n", stderr);
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
    if (per_cpu) {
        // The handlers stay installed (bench_runs.wait_caught looks for them), but the signals
        // are blocked and taken by sigwaitinfo, so they never run.
        return run_per_cpu(rate, spin_us);
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
        spin_from(woke, spin);
        const long long done = thread_cpu_ns();
        cpu_ns += done - mark; // the sleep's own cost included, as cpuprof's would be
        mark = done;
        ++wakeups;
    }
    std::printf(
        "{\"rate_hz\": %g, \"spin_us\": %g, \"wakeups\": %lld, \"cpu_per_wakeup_us\": %.2f}\n",
        rate, spin_us, wakeups, per_wakeup_us(cpu_ns, wakeups));
    return 0;
}
