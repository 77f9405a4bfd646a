// The CPU a thread spends only on waking up at a rate, with nothing to do: the floor under
// cpuprof's CPU per sample. It sleeps to absolute CLOCK_MONOTONIC deadlines on cpuprof's own
// ticker (sampling::Ticker: two timerfds in turn when the period is shorter than the kernel's
// tick, clock_nanosleep otherwise), or with one clock_nanosleep per deadline (--nanosleep), and
// prints one JSON line:
//   wakeup_floor RATE_HZ SECONDS [--busy] [--nanosleep]
//   {"rate_hz": 1000, "wakeups": 3000, "busy": false, "method": "timer pair",
//   "cpu_per_wakeup_us": 21.2}
// With --busy a second thread spins meanwhile, as a profiled program does on the other CPU.
// On a VM every wake-up of an idle vCPU also costs exits to the hypervisor (the halt, the timer
// reprogrammed); the kernel charges the thread that wakes from the moment the timer interrupt
// wakes it, so that cost is the larger part of a sample at 1 kHz there.
#include "cpuprof/sampling/ticker.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <thread>

namespace {

long long to_ns(const timespec& t) {
    return static_cast<long long>(t.tv_sec) * 1'000'000'000LL + t.tv_nsec;
}

} // namespace

int main(int argc, char** argv) {
    bool busy = false;
    bool nanosleep = false;
    bool known = argc >= 3;
    for (int i = 3; i < argc; ++i) {
        busy = busy || std::strcmp(argv[i], "--busy") == 0;
        nanosleep = nanosleep || std::strcmp(argv[i], "--nanosleep") == 0;
        known = known &&
                (std::strcmp(argv[i], "--busy") == 0 || std::strcmp(argv[i], "--nanosleep") == 0);
    }
    if (!known) {
        std::fputs("usage: wakeup_floor RATE_HZ SECONDS [--busy] [--nanosleep]\n", stderr);
        return 2;
    }
    const double rate = std::atof(argv[1]);
    const double seconds = std::atof(argv[2]);
    if (!(rate > 0 && rate <= 100'000 && seconds > 0 && seconds <= 3600)) {
        std::fputs("wakeup_floor: RATE_HZ in (0, 100000], SECONDS in (0, 3600]\n", stderr);
        return 2;
    }
    std::atomic<bool> done{false};
    std::thread spinner;
    if (busy) {
        spinner = std::thread([&done] {
            volatile unsigned long long x = 0;
            while (!done.load(std::memory_order_relaxed)) {
                x = x + 1;
            }
        });
    }
    const long long period = static_cast<long long>(1e9 / rate);
    const long long wakeups = static_cast<long long>(rate * seconds);
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long deadline = to_ns(now);
    cpuprof::sampling::Ticker ticker(rate);
    cpuprof::sampling::Tick tick;
    timespec cpu_start{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu_start);
    ticker.start_at(deadline);
    for (long long i = 0; i < wakeups; ++i) {
        if (!nanosleep) {
            ticker.wait(tick);
            continue;
        }
        deadline += period;
        const timespec ts{static_cast<time_t>(deadline / 1'000'000'000LL),
                          static_cast<long>(deadline % 1'000'000'000LL)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
        }
    }
    timespec cpu_end{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu_end);
    done = true;
    if (spinner.joinable()) {
        spinner.join();
    }
    const char* method = nanosleep
                             ? "nanosleep"
                             : (ticker.sleeps_on_timer_pair() ? "timer pair" : "ticker nanosleep");
    std::printf("{\"rate_hz\": %g, \"wakeups\": %lld, \"busy\": %s, \"method\": \"%s\", "
                "\"cpu_per_wakeup_us\": %.2f}\n",
                rate, wakeups, busy ? "true" : "false", method,
                static_cast<double>(to_ns(cpu_end) - to_ns(cpu_start)) / 1e3 /
                    static_cast<double>(wakeups));
    return 0;
}
