#include "cpuprof/output/top_model.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

using namespace cpuprof;
using namespace cpuprof::output;
using profile::Frame;
using profile::FrameId;
using profile::FrameKind;

namespace {

constexpr Tid kMain = 100;
constexpr Tid kWorker = 101;

// main() calls heavy() (two hot lines) and light(); the worker thread runs heavy() too and a
// recursive walk() that must count once per stack in %Total.
struct LiveProfile {
    profile::Profile p;
    FrameId main = 0, heavy3 = 0, heavy4 = 0, light = 0, walk = 0, walk_inner = 0, deflate = 0;

    LiveProfile() {
        p.rate_hz = 100;
        p.target.pid = 4242;
        p.target.python_version = "3.12.1";
        p.target.command_line = {"python3", "busy.py"};
        p.counter = profile::CounterKind::TaskClock;
        main = p.frames.intern({"main", "/srv/app/busy.py", 10, FrameKind::Python});
        heavy3 = p.frames.intern({"heavy", "/srv/app/busy.py", 3, FrameKind::Python});
        heavy4 = p.frames.intern({"heavy", "/srv/app/busy.py", 4, FrameKind::Python});
        light = p.frames.intern({"light", "/srv/app/busy.py", 7, FrameKind::Python});
        walk = p.frames.intern({"walk", "/srv/app/pkg/__init__.py", 20, FrameKind::Python});
        walk_inner = p.frames.intern({"walk", "/srv/app/pkg/__init__.py", 21, FrameKind::Python});
        deflate = p.frames.intern({"deflate", "/usr/lib/libz.so.1", 0, FrameKind::Native});
        p.threads[kMain] = {kMain, "python3", 0};
        p.threads[kWorker] = {kWorker, "worker", 0};
    }

    void
    add(Tid tid, std::vector<FrameId> frames, std::uint64_t samples, std::uint64_t cpu_ns = 0) {
        const auto id = p.stacks.intern(tid, frames);
        p.stacks.add(id, {.samples = samples, .cpu_ns = cpu_ns});
        p.stats.thread_samples += samples;
    }
};

const TopRow* find_row(const TopModel& model, const std::string& label, Tid tid = 0) {
    for (const TopRow* row : model.rows()) {
        if (row->label == label && row->thread == tid) {
            return row;
        }
    }
    return nullptr;
}

std::vector<std::string> labels(const TopModel& model) {
    std::vector<std::string> out;
    for (const TopRow* row : model.rows()) {
        out.push_back(row->label);
    }
    return out;
}

} // namespace

TEST_CASE("top rows count own samples at the leaf and total once per stack", "[output][top]") {
    LiveProfile lp;
    lp.add(kMain, {lp.main, lp.heavy3}, 30);
    lp.add(kMain, {lp.main, lp.heavy4}, 15);
    lp.add(kMain, {lp.main, lp.light}, 10);
    lp.add(kWorker, {lp.walk, lp.walk_inner, lp.walk}, 5); // recursion
    TopModel model(false);
    model.set_lines(true);
    model.update(lp.p, {});

    CHECK(model.recent_samples() == 60);
    const TopRow* main = find_row(model, "main (busy.py:10)");
    REQUIRE(main != nullptr);
    CHECK(main->own.samples == 0);
    CHECK(main->total.samples == 55);
    CHECK(main->total_recent == 55);
    const TopRow* walk = find_row(model, "walk (pkg/__init__.py:20)");
    REQUIRE(walk != nullptr);
    CHECK(walk->total.samples == 5); // once, though it is in the stack twice
    CHECK(walk->own.samples == 5);
    // Sorted by %Own; rows without own samples follow by their total.
    CHECK(labels(model) ==
          std::vector<std::string>{"heavy (busy.py:3)", "heavy (busy.py:4)", "light (busy.py:7)",
                                   "walk (pkg/__init__.py:20)", "main (busy.py:10)",
                                   "walk (pkg/__init__.py:21)"});
}

TEST_CASE("top percentages describe the last interval, times the whole window", "[output][top]") {
    LiveProfile lp;
    lp.add(kMain, {lp.main, lp.heavy3}, 90);
    lp.add(kMain, {lp.main, lp.light}, 10);
    TopModel model(false);
    model.set_lines(true);
    model.update(lp.p, {});
    CHECK(model.rows().front()->label == "heavy (busy.py:3)");

    // The program changes phase: light is now the hot one.
    lp.add(kMain, {lp.main, lp.heavy3}, 5);
    lp.add(kMain, {lp.main, lp.light}, 45);
    model.update(lp.p, {});
    CHECK(model.recent_samples() == 50);
    const TopRow* light = find_row(model, "light (busy.py:7)");
    const TopRow* heavy = find_row(model, "heavy (busy.py:3)");
    REQUIRE(light != nullptr);
    REQUIRE(heavy != nullptr);
    CHECK(light->own_recent == 45);
    CHECK(light->own.samples == 55);
    CHECK(heavy->own_recent == 5);
    CHECK(heavy->own.samples == 95);
    CHECK(model.rows().front()->label == "light (busy.py:7)"); // %Own: now

    model.set_sort(TopSort::OwnTime); // OwnTime: the whole window
    CHECK(model.rows().front()->label == "heavy (busy.py:3)");
    model.set_sort(TopSort::TotalShare);
    CHECK(model.rows().front()->label == "main (busy.py:10)");
    model.set_sort(TopSort::TotalTime);
    CHECK(model.rows().front()->label == "main (busy.py:10)");
    CHECK(model.rows().front()->total.samples == 150);
}

TEST_CASE("top sorts by the counter column: CPU time, or instructions when counted",
          "[output][top]") {
    LiveProfile lp;
    lp.add(kMain, {lp.main, lp.heavy3}, 50, 1'000'000);
    lp.add(kMain, {lp.main, lp.light}, 10, 9'000'000);
    TopModel model(false);
    model.update(lp.p, {});
    model.set_sort(TopSort::OwnCounter);
    CHECK(model.rows().front()->label == "light (busy.py:7)");
    CHECK(model.rows().front()->own.cpu_ns == 9'000'000);
    model.set_sort(TopSort::TotalCounter);
    CHECK(model.rows().front()->label == "main (busy.py:10)");
    CHECK(model.rows().front()->total.cpu_ns == 10'000'000);

    // With the hardware counter the column is instructions, not CPU time.
    lp.p.counter = profile::CounterKind::HardwareInstructions;
    lp.p.stacks.add(lp.p.stacks.intern(kMain, std::vector<FrameId>{lp.main, lp.heavy3}),
                    {.instructions = 7'000'000});
    model.update(lp.p, {});
    model.set_sort(TopSort::OwnCounter);
    CHECK(model.rows().front()->label == "heavy (busy.py:3)");
    CHECK(model.rows().front()->own.instructions == 7'000'000);
}

TEST_CASE("top folds lines into functions named by their hottest line, and splits threads",
          "[output][top]") {
    LiveProfile lp;
    lp.add(kMain, {lp.main, lp.heavy3}, 30);
    lp.add(kMain, {lp.main, lp.heavy4}, 15);
    lp.add(kWorker, {lp.heavy3}, 20);
    TopModel model(false);
    REQUIRE_FALSE(model.view().lines); // functions by default

    model.update(lp.p, {});
    const TopRow* heavy = find_row(model, "heavy (busy.py:3)");
    REQUIRE(heavy != nullptr);
    CHECK(heavy->own.samples == 65);
    CHECK(model.rows().size() == 2);

    // Line 4 becomes the hot one: the row keeps its place and changes its name.
    lp.add(kMain, {lp.main, lp.heavy4}, 60);
    model.update(lp.p, {});
    CHECK(find_row(model, "heavy (busy.py:3)") == nullptr);
    REQUIRE(find_row(model, "heavy (busy.py:4)") != nullptr);
    CHECK(find_row(model, "heavy (busy.py:4)")->own.samples == 125);

    model.set_per_thread(true);
    model.update(lp.p, {});
    const TopRow* main_heavy = find_row(model, "heavy (busy.py:4)", kMain);
    const TopRow* worker_heavy = find_row(model, "heavy (busy.py:4)", kWorker);
    REQUIRE(main_heavy != nullptr);
    REQUIRE(worker_heavy != nullptr);
    CHECK(main_heavy->own.samples == 105);
    CHECK(worker_heavy->own.samples == 20);
    CHECK(worker_heavy->thread_label == "101 worker");
    CHECK(model.rows().size() == 3);

    // Back to lines: the keys are rebuilt, not mixed with the function view's.
    model.set_lines(true);
    model.set_per_thread(false);
    model.update(lp.p, {});
    REQUIRE(find_row(model, "heavy (busy.py:3)") != nullptr);
    CHECK(find_row(model, "heavy (busy.py:3)")->own.samples == 50);
    REQUIRE(find_row(model, "heavy (busy.py:4)") != nullptr);
    CHECK(find_row(model, "heavy (busy.py:4)")->own.samples == 75);
}

TEST_CASE("top shows native frames only when recorded and toggled on", "[output][top]") {
    LiveProfile lp;
    lp.add(kMain, {lp.main, lp.heavy3, lp.deflate}, 10);

    TopModel without(false);
    CHECK_FALSE(without.set_native(true));

    TopModel model(true);
    model.update(lp.p, {});
    CHECK(model.rows().front()->label == "deflate (libz.so.1)");
    REQUIRE(model.set_native(false));
    model.update(lp.p, {});
    // The deepest Python frame owns the sample once native frames are hidden.
    CHECK(model.rows().front()->label == "heavy (busy.py:3)");
    CHECK(model.rows().front()->own.samples == 10);
    CHECK(find_row(model, "deflate (libz.so.1)") == nullptr);
}

TEST_CASE("top's header reports rate, threads, GIL, idle and errors since reset", "[output][top]") {
    LiveProfile lp;
    lp.add(kMain, {lp.main, lp.heavy3}, 80);
    lp.p.stats.gil_samples = 60;
    lp.p.stats.idle_skipped = 20;
    lp.p.stats.failed = 2;
    lp.p.stats.torn = 1;
    TopModel model(false);
    model.update(lp.p, {.ticks = 190, .lost_ticks = 3, .elapsed_ns = 2'000'000'000});
    const TopHeader& h = model.header();
    CHECK(h.pid == 4242);
    CHECK(h.command == "python3 busy.py");
    CHECK(h.python_version == "3.12.1");
    CHECK(h.achieved_hz == Approx(95.0));
    CHECK(h.elapsed_s == Approx(2.0));
    CHECK(h.threads == 2);
    CHECK(h.samples == 80);
    CHECK(h.gil_share == Approx(0.75));
    CHECK(h.idle_share == Approx(0.2));
    CHECK(h.errors == 3);
    CHECK(h.lost_ticks == 3);
}

TEST_CASE("top's reset clears the stacks and restarts the header", "[output][top]") {
    LiveProfile lp;
    lp.add(kMain, {lp.main, lp.heavy3}, 80);
    lp.p.stats.gil_samples = 80;
    TopModel model(false);
    const TopClock before{.ticks = 100, .lost_ticks = 1, .elapsed_ns = 1'000'000'000};
    model.update(lp.p, before);
    REQUIRE_FALSE(model.rows().empty());

    model.reset(lp.p, before);
    CHECK(lp.p.stacks.size() == 0);
    CHECK(lp.p.threads.empty());
    CHECK(model.rows().empty());
    CHECK(model.header().samples == 0);
    CHECK(model.header().gil_share == 0);
    CHECK(model.header().elapsed_s == 0);

    // Sampling goes on: only what came after the reset shows.
    lp.add(kMain, {lp.main, lp.light}, 10);
    lp.p.stats.gil_samples += 5;
    model.update(lp.p, {.ticks = 150, .lost_ticks = 1, .elapsed_ns = 1'500'000'000});
    CHECK(model.header().samples == 10);
    CHECK(model.header().gil_share == Approx(0.5));
    CHECK(model.header().achieved_hz == Approx(100.0));
    CHECK(model.header().lost_ticks == 0);
    REQUIRE(model.rows().size() == 2);
    CHECK(model.rows().front()->label == "light (busy.py:7)");
    CHECK(model.rows().front()->own.samples == 10);
    CHECK(model.rows().front()->own_recent == 10);
}

TEST_CASE("top folds only what changed, and agrees with a fold from scratch", "[output][top]") {
    LiveProfile lp;
    const std::vector<FrameId> frames{lp.main,  lp.heavy3, lp.heavy4,
                                      lp.light, lp.walk,   lp.walk_inner};
    std::mt19937 rng(7);
    auto random_batch = [&] {
        for (int i = 0; i < 50; ++i) {
            std::vector<FrameId> stack;
            const auto depth = 1 + rng() % 6;
            for (std::uint32_t d = 0; d < depth; ++d) {
                stack.push_back(frames[rng() % frames.size()]);
            }
            lp.add(rng() % 2 == 0 ? kMain : kWorker, stack, 1 + rng() % 9, rng() % 1000);
        }
    };
    using Figures = std::tuple<std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t>;
    auto figures = [](const TopModel& model) {
        std::map<std::pair<std::string, Tid>, Figures> out;
        for (const TopRow* row : model.rows()) {
            out[{row->label, row->thread}] = {row->own.samples, row->total.samples, row->own.cpu_ns,
                                              row->total.cpu_ns};
        }
        return out;
    };
    for (const bool per_thread : {false, true}) {
        for (const bool lines : {false, true}) {
            TopModel live(false);
            live.set_per_thread(per_thread);
            live.set_lines(lines);
            for (int batch = 0; batch < 5; ++batch) {
                random_batch();
                live.update(lp.p, {});
            }
            TopModel fresh(false);
            fresh.set_per_thread(per_thread);
            fresh.set_lines(lines);
            fresh.update(lp.p, {});
            CHECK(figures(live) == figures(fresh));
        }
    }
}

TEST_CASE("top keeps the interval when the view changes or the table is cleared elsewhere",
          "[output][top]") {
    LiveProfile lp;
    lp.add(kMain, {lp.main, lp.heavy3}, 40);
    TopModel model(false);
    model.update(lp.p, {});
    lp.add(kMain, {lp.main, lp.heavy3}, 5);
    model.set_per_thread(true);
    model.update(lp.p, {});
    const TopRow* heavy = find_row(model, "heavy (busy.py:3)", kMain);
    REQUIRE(heavy != nullptr);
    CHECK(heavy->own.samples == 45); // the whole window, folded again for the new view
    CHECK(heavy->own_recent == 5);   // still only the last interval
    CHECK(model.recent_samples() == 5);

    lp.p.stacks.clear();
    lp.add(kWorker, {lp.light}, 3);
    model.update(lp.p, {});
    REQUIRE(model.rows().size() == 1);
    CHECK(model.rows().front()->label == "light (busy.py:7)");
    CHECK(model.rows().front()->own.samples == 3);
}

TEST_CASE("short_path keeps the package of __init__ files", "[output][top]") {
    CHECK(short_path("/srv/app/busy.py") == "busy.py");
    CHECK(short_path("/usr/lib/python3.12/json/__init__.py") == "json/__init__.py");
    CHECK(short_path("__main__.py") == "__main__.py");
    CHECK(short_path("<frozen importlib._bootstrap>") == "<frozen importlib._bootstrap>");
}
