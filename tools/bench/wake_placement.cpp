// Where the kernel wakes a thread that sleeps at a rate, when the CPU it last ran on is busy and
// another CPU it may use is idle: the question behind every tick cpuprof's sampler spends beside
// the GIL holder. A spinner pinned to the first allowed CPU keeps it busy for DUTY % of every
// 10 ms. The main thread wakes RATE_HZ times a second to absolute CLOCK_MONOTONIC deadlines
// (clock_nanosleep, so the timer is armed on the CPU it sleeps on), alternating two phases:
//   busy prev: before each sleep it moves itself to the busy CPU (and lifts the restriction at
//              once), so the wake-up starts from there;
//   idle prev: before each sleep it moves itself to the idle CPU.
// Only wake-ups that find the spinner spinning count. Prints one JSON line:
//   wake_placement RATE_HZ SECONDS [--duty PCT]
//   {"rate_hz": 1000, "duty_pct": 100, "busy_cpu": 0, "idle_cpu": 1,
//    "wakes_prev_busy": 1480, "kept_on_busy_pct": 74.9,
//    "wakes_prev_idle": 1490, "moved_to_busy_pct": 0.1, "sched_vcpu_pack": "15"}
// kept_on_busy_pct is how often the kernel left the wake-up beside the spinner (preempting it)
// although the other CPU was idle; moved_to_busy_pct is the control (a thread whose last CPU
// is idle is woken there). sched_vcpu_pack is the VM kernel's vCPU packing setting where it
// has one (kernel.sched_vcpu_pack), null elsewhere.
#include "cpuprof/sampling/ticker.hpp"

#include <sched.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>

namespace {

using cpuprof::sampling::monotonic_ns;

void sleep_until(long long deadline_ns) {
    const timespec ts{static_cast<time_t>(deadline_ns / 1'000'000'000LL),
                      static_cast<long>(deadline_ns % 1'000'000'000LL)};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
    }
}

bool move_to(int cpu, const cpu_set_t& allowed) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(cpu, &one);
    return sched_setaffinity(0, sizeof one, &one) == 0 &&
           sched_setaffinity(0, sizeof allowed, &allowed) == 0;
}

std::string vcpu_pack_setting() {
    std::ifstream in("/proc/sys/kernel/sched_vcpu_pack");
    std::string value;
    if (!(in >> value)) {
        return "null";
    }
    return "\"" + value + "\"";
}

} // namespace

int main(int argc, char** argv) {
    int duty = 100;
    bool known = argc == 3 || (argc == 5 && std::strcmp(argv[3], "--duty") == 0);
    if (known && argc == 5) {
        duty = std::atoi(argv[4]);
    }
    if (!known) {
        std::fputs("usage: wake_placement RATE_HZ SECONDS [--duty PCT]\n", stderr);
        return 2;
    }
    const double rate = std::atof(argv[1]);
    const double seconds = std::atof(argv[2]);
    if (!(rate > 0 && rate <= 10'000 && seconds > 0 && seconds <= 3600 && duty >= 10 &&
          duty <= 100)) {
        std::fputs(
            "wake_placement: RATE_HZ in (0, 10000], SECONDS in (0, 3600], PCT in [10, 100]\n",
            stderr);
        return 2;
    }
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) < 2) {
        std::fputs("wake_placement: needs at least 2 allowed CPUs (run it without taskset)\n",
                   stderr);
        return 2;
    }
    int busy_cpu = -1;
    int idle_cpu = -1;
    for (int c = 0; c < CPU_SETSIZE && idle_cpu < 0; ++c) {
        if (CPU_ISSET(c, &allowed)) {
            (busy_cpu < 0 ? busy_cpu : idle_cpu) = c;
        }
    }

    std::atomic<bool> done{false};
    std::atomic<bool> spinning{false};
    std::thread spinner([&] {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(busy_cpu, &one);
        sched_setaffinity(0, sizeof one, &one);
        const long long window_ns = 10'000'000;
        while (!done.load(std::memory_order_relaxed)) {
            const long long start = monotonic_ns();
            spinning.store(true, std::memory_order_relaxed);
            while (monotonic_ns() < start + window_ns * duty / 100) {
            }
            spinning.store(false, std::memory_order_relaxed);
            if (duty < 100) {
                sleep_until(start + window_ns);
            }
        }
    });

    const long long period = static_cast<long long>(1e9 / rate);
    const long long wakeups = static_cast<long long>(rate * seconds);
    long long counted[2] = {0, 0}; // [0] prev busy, [1] prev idle
    long long on_busy[2] = {0, 0};
    long long deadline = monotonic_ns() + 20'000'000; // 20 ms for the spinner to settle
    bool moved = true;
    for (long long i = 0; i < wakeups && moved; ++i) {
        const int phase = static_cast<int>(i % 2);
        moved = move_to(phase == 0 ? busy_cpu : idle_cpu, allowed);
        deadline += period;
        sleep_until(deadline);
        if (spinning.load(std::memory_order_relaxed)) {
            ++counted[phase];
            on_busy[phase] += sched_getcpu() == busy_cpu ? 1 : 0;
        }
    }
    done = true;
    spinner.join();
    if (!moved) {
        std::perror("wake_placement: sched_setaffinity");
        return 1;
    }
    const auto pct = [](long long part, long long whole) {
        return whole > 0 ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
    };
    std::printf("{\"rate_hz\": %g, \"duty_pct\": %d, \"busy_cpu\": %d, \"idle_cpu\": %d, "
                "\"wakes_prev_busy\": %lld, \"kept_on_busy_pct\": %.1f, "
                "\"wakes_prev_idle\": %lld, \"moved_to_busy_pct\": %.1f, "
                "\"sched_vcpu_pack\": %s}\n",
                rate, duty, busy_cpu, idle_cpu, counted[0], pct(on_busy[0], counted[0]), counted[1],
                pct(on_busy[1], counted[1]), vcpu_pack_setting().c_str());
    return 0;
}
