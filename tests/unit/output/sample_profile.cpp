#include "sample_profile.hpp"

#include <array>
#include <vector>

namespace cpuprof::test {

using profile::FrameKind;

profile::Profile sample_profile(const SampleOptions& options) {
    profile::Profile p;
    p.target = {.pid = 4242,
                .python_version = "3.12.1",
                .executable = "/usr/bin/python3.12",
                .command_line = {"python3", "app.py", "--fast"}};
    p.rate_hz = 1000;
    p.duration_s = 2.0;
    p.start_unix_ns = 1'700'000'000'000'000'000ULL;
    p.stats = {.ticks = 1990,
               .expected_ticks = 2000,
               .late_ticks = 3,
               .lost_ticks = 1,
               .thread_samples = 100,
               .idle_skipped = 11,
               .gil_samples = 40,
               .failed = 2,
               .torn = 1,
               .unmerged = 4,
               .sampler_cpu_ns = 12'345'678,
               .paused_ns = 250'000'000,
               .colocated_ticks = 7,
               .sampler_moves = 5,
               .switch_rings_closed = 3};
    p.counter = options.hardware_counter ? profile::CounterKind::HardwareInstructions
                                         : profile::CounterKind::TaskClock;
    p.sampler_priority = "short-slice";
    p.counter_note = options.hardware_counter
                         ? ""
                         : "perf_event_open(PERF_COUNT_HW_INSTRUCTIONS): ENOENT, no PMU in this VM";
    p.native = true;
    p.per_thread = options.per_thread;

    const auto main = p.frames.intern({"main", "app.py", 10, FrameKind::Python});
    const auto korean = p.frames.intern({"함수", "app.py", 20, FrameKind::Python});
    const auto fire = p.frames.intern({"🔥", "fire.py", 3, FrameKind::Python});
    const auto markup = p.frames.intern({"render<&>\"'", "tmpl.py", 7, FrameKind::Python});
    const auto semi = p.frames.intern({"a;b", "semi.py", 1, FrameKind::Python});
    const auto native =
        p.frames.intern({"deflate", "/usr/lib/x86_64-linux-gnu/libz.so.1", 0, FrameKind::Native});
    const auto main_again = p.frames.intern({"main", "app.py", 12, FrameKind::Python});

    struct Spec {
        Tid tid;
        std::vector<profile::FrameId> frames;
        std::uint64_t samples;
        std::int64_t rss;
    };
    const std::array specs{
        Spec{100, {main, korean}, 50, 1024 * 1024},
        Spec{101, {main, korean}, 25, -256 * 1024},
        Spec{100, {main, fire, markup}, 10, 4096},
        Spec{101, {main, semi, native}, 7, -1024 * 1024},
        Spec{101, {main, fire}, 3, 0},
        Spec{100, {main, korean, main_again}, 5, 0},
    };
    for (const Spec& spec : specs) {
        const auto id = p.stacks.intern(spec.tid, spec.frames);
        p.stacks.add(id, {.samples = spec.samples,
                          .instructions = options.hardware_counter ? spec.samples * 2'000'000 : 0,
                          .rss_delta = spec.rss,
                          .cpu_ns = spec.samples * 1'000'000});
        p.threads[spec.tid].tid = spec.tid;
        p.threads[spec.tid].samples += spec.samples;
    }
    p.threads[100].name = "MainThread";
    p.threads[101].name = "worker";

    if (options.timeline) {
        // Round-robin over the stacks, one entry per sample, as a sampler would interleave them.
        std::vector<std::uint64_t> left;
        for (profile::StackId id = 0; id < p.stacks.size(); ++id) {
            left.push_back(p.stacks.metrics(id).samples);
        }
        std::uint32_t tick = 0;
        for (bool more = true; more;) {
            more = false;
            for (profile::StackId id = 0; id < left.size(); ++id) {
                if (left[id] > 0) {
                    --left[id];
                    p.timeline.push_back({tick++, id});
                    more = true;
                }
            }
        }
    }
    return p;
}

} // namespace cpuprof::test
