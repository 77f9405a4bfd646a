// What --native costs. Attaches to a Python busy loop and measures (1) the time of one native
// sample, split into its steps: stop (PTRACE_SEIZE + INTERRUPT + wait), unwind (libunwind-ptrace),
// detach, symbolize (libdwfl, cached); and (2) the target's slowdown while it is sampled at a
// fixed rate: the time of a fixed amount of Python work with and without the sampling.
#include "cpuprof/native/symbolizer.hpp"
#include "cpuprof/native/unwinder.hpp"
#include "cpuprof/process/ptrace_session.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fmt/format.h>
#include <optional>
#include <poll.h>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using cpuprof::Pid;
using cpuprof::RemoteAddr;
using cpuprof::native::NativeSymbol;
using cpuprof::native::Symbolizer;
using cpuprof::native::Unwinder;

// A 30-deep Python recursion around a pure-Python loop; per round of fixed work, one line with
// its wall time and the thread's CPU time (which leaves out waiting for a CPU, the noise of a
// busy machine, but keeps what sampling costs the target itself: lost caches, re-scheduling).
constexpr const char* kTargetScript = R"(
import os, sys, time
fd = int(sys.argv[1])
def leaf(n):
    total = 0
    for i in range(n):
        total += i * i % 7
    return total
def nest(depth, n):
    return leaf(n) if depth == 0 else nest(depth - 1, n)
os.write(fd, b"R")
while True:
    wall, cpu = time.perf_counter(), time.thread_time()
    nest(30, 300000)
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    os.write(fd, ("%.6f %.6f\n" % (wall, cpu)).encode())
)";

constexpr int kTargetFd = 3;

// The Python process, killed and reaped on destruction.
class Target {
  public:
    explicit Target(const std::string& python) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            throw std::runtime_error("pipe failed");
        }
        pid_ = ::fork();
        if (pid_ < 0) {
            throw std::runtime_error("fork failed");
        }
        if (pid_ == 0) {
            ::dup2(fds[1], kTargetFd);
            const std::string fd = std::to_string(kTargetFd);
            ::execl(python.c_str(), python.c_str(), "-c", kTargetScript, fd.c_str(), nullptr);
            ::_exit(127);
        }
        ::close(fds[1]);
        read_fd_ = fds[0];
        if (read_line(std::chrono::seconds(30), 'R') == std::nullopt) {
            throw std::runtime_error(python + " did not start");
        }
    }
    ~Target() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        ::close(read_fd_);
    }
    Target(const Target&) = delete;
    Target& operator=(const Target&) = delete;

    [[nodiscard]] Pid pid() const { return pid_; }

    struct Round {
        double wall; ///< seconds
        double cpu;  ///< seconds
    };
    Round next_round() {
        auto line = read_line(std::chrono::seconds(60), '\n');
        if (!line) {
            throw std::runtime_error("the target stopped reporting");
        }
        std::size_t used = 0;
        const double wall = std::stod(*line, &used);
        return {wall, std::stod(line->substr(used))};
    }

  private:
    std::optional<std::string> read_line(std::chrono::seconds timeout, char end) {
        std::string line;
        for (;;) {
            pollfd p{read_fd_, POLLIN, 0};
            const int ready = ::poll(&p, 1, static_cast<int>(timeout.count() * 1000));
            if (ready < 0 && errno == EINTR) {
                continue;
            }
            char c = 0;
            if (ready <= 0 || ::read(read_fd_, &c, 1) != 1) {
                return std::nullopt;
            }
            if (c == end) {
                return line;
            }
            line.push_back(c);
        }
    }

    Pid pid_ = -1;
    int read_fd_ = -1;
};

struct Stats {
    double median;
    double p95;
};

Stats stats_of(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const auto at = [&](double q) {
        return values[static_cast<std::size_t>(q * static_cast<double>(values.size() - 1))];
    };
    return {at(0.5), at(0.95)};
}

double micros(Clock::duration d) {
    return std::chrono::duration<double, std::micro>(d).count();
}

struct SampleTimes {
    std::vector<double> stop, unwind, detach, symbolize, total, depth;
};

void measure_samples(Pid pid, int count) {
    Unwinder unwinder(pid);
    Symbolizer symbolizer(pid);
    std::vector<RemoteAddr> pcs;
    pcs.reserve(Unwinder::kMaxDepth);
    std::vector<const NativeSymbol*> symbols;
    SampleTimes times;
    double cold_total = 0;
    double cold_stopped = 0;
    for (int i = 0; i <= count; ++i) {
        const auto t0 = Clock::now();
        Clock::time_point t1;
        Clock::time_point t2;
        {
            cpuprof::process::ThreadStop stop(pid, pid);
            t1 = Clock::now();
            unwinder.unwind(pid, pcs);
            t2 = Clock::now();
        }
        const auto t3 = Clock::now();
        symbolizer.symbolize(pcs, symbols);
        const auto t4 = Clock::now();
        if (i == 0) {
            // First sample: unwind info and symbols not cached yet.
            cold_total = micros(t4 - t0);
            cold_stopped = micros(t3 - t0);
            continue;
        }
        times.stop.push_back(micros(t1 - t0));
        times.unwind.push_back(micros(t2 - t1));
        times.detach.push_back(micros(t3 - t2));
        times.symbolize.push_back(micros(t4 - t3));
        times.total.push_back(micros(t4 - t0));
        times.depth.push_back(static_cast<double>(pcs.size()));
    }
    fmt::print("first (cold) sample: {:.0f} µs, of which the target was stopped {:.0f} µs\n",
               cold_total, cold_stopped);
    fmt::print("per sample over the next {} samples\n", count);
    fmt::print("  {:<34} {:>10} {:>10}\n", "step", "median µs", "p95 µs");
    const auto row = [](const char* name, const std::vector<double>& v) {
        const Stats s = stats_of(v);
        fmt::print("  {:<34} {:>10.1f} {:>10.1f}\n", name, s.median, s.p95);
    };
    row("stop (seize + interrupt + wait)", times.stop);
    row("unwind (libunwind-ptrace)", times.unwind);
    row("detach", times.detach);
    row("symbolize (cached, after detach)", times.symbolize);
    row("total", times.total);
    fmt::print("  native depth: median {:.0f} frames\n", stats_of(times.depth).median);
    fmt::print("  distinct pcs symbolized: {}\n", symbolizer.cached_pcs());
}

struct Rounds {
    std::vector<double> wall;
    std::vector<double> cpu;
};

void collect_rounds(Target& target, int rounds, Rounds& into) {
    (void)target.next_round(); // the round under way when the phase began mixes both phases
    for (int i = 0; i < rounds; ++i) {
        const Target::Round round = target.next_round();
        into.wall.push_back(round.wall);
        into.cpu.push_back(round.cpu);
    }
}

// Samples the target's main thread at `rate` until destroyed, as `record --native` would.
class BackgroundSampler {
  public:
    BackgroundSampler(Pid pid, double rate)
        : thread_([this, pid, rate] { run(pid, rate); }) {}
    ~BackgroundSampler() {
        running_ = false;
        thread_.join();
    }
    BackgroundSampler(const BackgroundSampler&) = delete;
    BackgroundSampler& operator=(const BackgroundSampler&) = delete;

    [[nodiscard]] long taken() const { return taken_.load(); }

  private:
    void run(Pid pid, double rate) {
        // ptrace ties a stop to the thread that made it: everything happens on this thread.
        Unwinder unwinder(pid);
        Symbolizer symbolizer(pid);
        std::vector<RemoteAddr> pcs;
        std::vector<const NativeSymbol*> symbols;
        const auto period =
            std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
        auto deadline = Clock::now();
        while (running_.load(std::memory_order_relaxed)) {
            {
                cpuprof::process::ThreadStop stop(pid, pid);
                unwinder.unwind(pid, pcs);
            }
            symbolizer.symbolize(pcs, symbols);
            taken_.fetch_add(1, std::memory_order_relaxed);
            deadline += period;
            std::this_thread::sleep_until(deadline);
        }
    }

    std::atomic<bool> running_{true};
    std::atomic<long> taken_{0};
    std::thread thread_;
};

// Alternates unsampled and sampled phases so that drift in the machine's load hits both alike.
void measure_slowdown(Target& target, double rate, int rounds, int repeats) {
    Rounds unsampled;
    Rounds sampled;
    long taken = 0;
    double sampled_seconds = 0;
    for (int repeat = 0; repeat < repeats; ++repeat) {
        collect_rounds(target, rounds, unsampled);
        const auto started = Clock::now();
        BackgroundSampler sampler(target.pid(), rate);
        collect_rounds(target, rounds, sampled);
        taken += sampler.taken();
        sampled_seconds += std::chrono::duration<double>(Clock::now() - started).count();
    }
    fmt::print("target slowdown at {:.0f} Hz ({} x {} rounds per phase)\n", rate, repeats, rounds);
    fmt::print("  {:<10} {:>16} {:>16} {:>10}\n", "per round", "unsampled ms", "sampled ms",
               "slowdown");
    const auto row = [](const char* name, const std::vector<double>& base,
                        const std::vector<double>& hot) {
        const Stats b = stats_of(base);
        const Stats h = stats_of(hot);
        fmt::print("  {:<10} {:>16} {:>16} {:>+9.1f}%\n", name,
                   fmt::format("{:.2f} (p95 {:.2f})", b.median * 1e3, b.p95 * 1e3),
                   fmt::format("{:.2f} (p95 {:.2f})", h.median * 1e3, h.p95 * 1e3),
                   (h.median / b.median - 1) * 100);
    };
    row("wall", unsampled.wall, sampled.wall);
    row("cpu", unsampled.cpu, sampled.cpu);
    fmt::print("  samples taken: {} ({:.0f} Hz achieved)\n", taken,
               static_cast<double>(taken) / sampled_seconds);
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Cost of native sampling: stop + unwind + symbolize + detach, and the target's "
                 "slowdown"};
    std::string python = "/root/.pyenv/versions/3.12.1/bin/python3.12";
    int samples = 2000;
    double rate = 200;
    int rounds = 10;
    int repeats = 3;
    app.add_option("--python", python, "interpreter to run the busy loop")
        ->check(CLI::ExistingFile);
    app.add_option("--samples", samples, "samples for the per-sample timing")
        ->check(CLI::Range(10, 1000000));
    app.add_option("--rate", rate, "sampling rate for the slowdown test, Hz")
        ->check(CLI::Range(1.0, 10000.0));
    app.add_option("--rounds", rounds, "rounds of Python work per phase")
        ->check(CLI::Range(3, 1000));
    app.add_option("--repeats", repeats, "unsampled/sampled phase pairs")
        ->check(CLI::Range(1, 100));
    CLI11_PARSE(app, argc, argv);

    try {
        Target target(python);
        fmt::print("target: {} (pid {})\n", python, target.pid());
        measure_samples(target.pid(), samples);
        measure_slowdown(target, rate, rounds, repeats);
    } catch (const std::exception& e) {
        fmt::print(stderr, "bench_native: {}\n", e.what());
        return 1;
    }
    return 0;
}
