// How long each output format takes to write for a large profile: builds a Profile of N unique
// stacks (seeded random frames, depth 10-40, sharing prefixes as real call trees do) and times
// output::write_profile for every format into a temporary file, median of a few repetitions.
#include "cpuprof/output/format.hpp"
#include "cpuprof/output/writer.hpp"
#include "cpuprof/profile/profile.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using cpuprof::profile::Frame;
using cpuprof::profile::FrameId;
using cpuprof::profile::FrameKind;
using cpuprof::profile::Profile;

struct Options {
    std::size_t stacks = 100'000;
    std::size_t frames = 20'000;
    int repeat = 3;
    std::uint64_t seed = 1;
    std::string dir = std::filesystem::temp_directory_path().string();
    bool json = false;
};

constexpr int kThreads = 4;
constexpr cpuprof::Tid kFirstTid = 4000;
constexpr double kRateHz = 1000;

// Mostly Python frames with a sprinkling of native ones, so every label form is written.
std::vector<FrameId> make_frame_pool(Profile& profile, std::size_t count, std::mt19937_64& rng) {
    std::uniform_int_distribution<int> line(1, 3000);
    std::uniform_int_distribution<int> percent(0, 99);
    std::vector<FrameId> pool;
    pool.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        Frame frame;
        if (percent(rng) < 10) {
            frame.name = fmt::format("native_function_{}", i);
            frame.file = fmt::format("/usr/lib/x86_64-linux-gnu/libext{}.so.1", i % 50);
            frame.kind = FrameKind::Native;
        } else {
            frame.name = fmt::format("Handler{}.method_{}", i % 500, i);
            frame.file = fmt::format("/srv/app/package{}/module{}.py", i % 40, i % 700);
            frame.line = line(rng);
        }
        pool.push_back(profile.frames.intern(frame));
    }
    return pool;
}

// Each new stack reuses a random-length prefix of an earlier one, then continues with random
// frames to a random depth; duplicates (rare) are drawn again.
void fill_stacks(Profile& profile, const Options& o, std::mt19937_64& rng) {
    const std::vector<FrameId> pool = make_frame_pool(profile, o.frames, rng);
    std::uniform_int_distribution<std::size_t> pick_frame(0, pool.size() - 1);
    std::uniform_int_distribution<std::size_t> depth_of(10, 40);
    std::uniform_int_distribution<std::uint64_t> samples_of(1, 50);
    std::uniform_int_distribution<std::int64_t> rss_of(-65536, 65536);
    std::uniform_int_distribution<int> thread_of(0, kThreads - 1);
    std::vector<FrameId> stack;
    while (profile.stacks.size() < o.stacks) {
        const std::size_t depth = depth_of(rng);
        stack.clear();
        if (profile.stacks.size() > 0) {
            std::uniform_int_distribution<std::uint32_t> pick_stack(
                0, static_cast<std::uint32_t>(profile.stacks.size() - 1));
            const auto parent = profile.stacks.frames(pick_stack(rng));
            std::uniform_int_distribution<std::size_t> shared(0,
                                                              std::min(depth, parent.size()) - 1);
            stack.assign(parent.begin(), parent.begin() + static_cast<std::ptrdiff_t>(shared(rng)));
        }
        while (stack.size() < depth) {
            stack.push_back(pool[pick_frame(rng)]);
        }
        const cpuprof::Tid tid = kFirstTid + thread_of(rng);
        const std::size_t before = profile.stacks.size();
        const auto id = profile.stacks.intern(tid, stack);
        if (profile.stacks.size() == before) {
            continue;
        }
        const std::uint64_t samples = samples_of(rng);
        profile.stacks.add(
            id, {.samples = samples, .rss_delta = rss_of(rng), .cpu_ns = samples * 1'000'000});
        auto& thread = profile.threads[tid];
        thread.tid = tid;
        thread.name = fmt::format("worker-{}", tid - kFirstTid);
        thread.samples += samples;
        profile.stats.thread_samples += samples;
    }
}

Profile make_profile(const Options& o) {
    std::mt19937_64 rng(o.seed);
    Profile profile;
    profile.target.pid = 4000;
    profile.target.python_version = "3.12.1";
    profile.target.executable = "/usr/bin/python3.12";
    profile.target.command_line = {"python3.12", "app.py"};
    profile.rate_hz = kRateHz;
    fill_stacks(profile, o, rng);
    // Threads sampled together in one tick: the ticks are a quarter of the samples.
    profile.stats.ticks = profile.stats.thread_samples / kThreads;
    profile.stats.expected_ticks = profile.stats.ticks;
    profile.duration_s = static_cast<double>(profile.stats.ticks) / kRateHz;
    profile.counter_note = "no hardware counter in this benchmark";
    return profile;
}

struct Result {
    cpuprof::output::Format format;
    double median_s;
    std::uintmax_t bytes;
};

Result time_format(const Profile& profile, cpuprof::output::Format format, const Options& o) {
    const std::filesystem::path path =
        std::filesystem::path(o.dir) / fmt::format("cpuprof-output-bench-{}{}", ::getpid(),
                                                   cpuprof::output::extension_for(format));
    std::vector<double> seconds;
    std::uintmax_t bytes = 0;
    for (int i = 0; i < o.repeat; ++i) {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        const auto start = std::chrono::steady_clock::now();
        cpuprof::output::write_profile(profile, format, out);
        out.close();
        seconds.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        bytes = std::filesystem::file_size(path);
    }
    std::filesystem::remove(path);
    std::sort(seconds.begin(), seconds.end());
    return {format, seconds[seconds.size() / 2], bytes};
}

} // namespace

int main(int argc, char** argv) {
    Options o;
    CLI::App app{"Time to write each cpuprof output format for a profile of many unique stacks"};
    app.add_option("--stacks", o.stacks, "Unique stacks in the profile (default 100000)");
    app.add_option("--frames", o.frames, "Distinct frames they are drawn from (default 20000)");
    app.add_option("--repeat", o.repeat, "Writes per format; the median is reported (default 3)")
        ->check(CLI::PositiveNumber);
    app.add_option("--seed", o.seed, "Random seed (default 1)");
    app.add_option("--dir", o.dir, "Directory for the temporary output files");
    app.add_flag("--json", o.json, "Print the figures as JSON");
    CLI11_PARSE(app, argc, argv);
    if (o.stacks == 0 || o.frames == 0) {
        std::fputs("output_bench: --stacks and --frames must be above 0\n", stderr);
        return 2;
    }

    const auto start = std::chrono::steady_clock::now();
    const Profile profile = make_profile(o);
    const double build_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::vector<Result> results;
    try {
        for (const auto format : cpuprof::output::all_formats()) {
            results.push_back(time_format(profile, format, o));
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "output_bench: %s\n", e.what());
        return 1;
    }
    if (o.json) {
        nlohmann::ordered_json doc;
        doc["stacks"] = profile.stacks.size();
        doc["frames"] = profile.frames.size();
        doc["samples"] = profile.stats.thread_samples;
        doc["repeat"] = o.repeat;
        doc["build_s"] = build_s;
        for (const Result& r : results) {
            doc["formats"][std::string(cpuprof::output::format_name(r.format))] = {
                {"seconds", r.median_s}, {"bytes", r.bytes}};
        }
        fmt::print("{}\n", doc.dump(2));
        return 0;
    }
    fmt::print("profile: {} unique stacks, {} frames, {} samples (built in {:.2f} s)\n",
               profile.stacks.size(), profile.frames.size(), profile.stats.thread_samples, build_s);
    fmt::print("{:<12} {:>12} {:>12}\n", "format", "median s", "MB");
    for (const Result& r : results) {
        fmt::print("{:<12} {:>12.3f} {:>12.1f}\n", cpuprof::output::format_name(r.format),
                   r.median_s, static_cast<double>(r.bytes) / 1e6);
    }
    return 0;
}
