// The on-CPU check's memo: carried over only while the scheduler has not moved the thread, and
// the schedstat fields it rests on, read from real threads of this process.
#include "cpuprof/sampling/on_cpu_memo.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <thread>
#include <unistd.h>

using cpuprof::Tid;
using cpuprof::sampling::OnCpuMemo;
using cpuprof::sampling::SchedstatCpuSource;
using Line = SchedstatCpuSource::Line;

TEST_CASE("schedstat lines give the runtime and the times put on a CPU", "[sampling]") {
    CHECK(SchedstatCpuSource::parse_line("1015542473 229331 19\n") == Line{1'015'542'473ULL, 19});
    CHECK(SchedstatCpuSource::parse_line("0 0 0\n") == Line{0, 0});
    CHECK_FALSE(SchedstatCpuSource::parse_line("1015542473 229331\n"));
    CHECK_FALSE(SchedstatCpuSource::parse_line("1015542473 229331 19"));
    CHECK_FALSE(SchedstatCpuSource::parse_line("1 2 x\n"));
    CHECK_FALSE(SchedstatCpuSource::parse_line(""));
}

TEST_CASE("an on-CPU state is carried over only while schedstat has not moved", "[sampling]") {
    OnCpuMemo memo;
    const Line seen{5'000'000, 40};
    CHECK_FALSE(memo.carried(7, seen)); // never looked at
    memo.record(7, seen, true);
    CHECK(memo.carried(7, seen) == true);
    CHECK_FALSE(memo.carried(7, Line{5'000'001, 40})); // taken off a CPU since: ask again
    CHECK_FALSE(memo.carried(7, Line{5'000'000, 41})); // put on a CPU since: ask again
    CHECK_FALSE(memo.carried(8, seen));                // another thread
    CHECK(memo.last(7) == true);
    memo.record(7, Line{6'000'000, 41}, false);
    CHECK(memo.carried(7, Line{6'000'000, 41}) == false);
    CHECK(memo.last(7) == false); // what the last look said, moved since or not
    memo.forget(7);
    CHECK_FALSE(memo.carried(7, Line{6'000'000, 41}));
    CHECK_FALSE(memo.last(7));
}

TEST_CASE("a thread that stays on a CPU keeps its schedstat line; one put on a CPU moves it",
          "[sampling]") {
    // The facts OnCpuMemo rests on, on this kernel. A spinning thread's runtime is brought up to
    // date only at the scheduler's tick, so two reads 100 µs apart usually match while it runs;
    // a sleeping thread woken and run once moves both fields.
    std::promise<Tid> sleeper_tid;
    std::promise<void> wake;
    std::atomic<bool> woke{false};
    std::thread sleeper([&, signal = wake.get_future()] {
        sleeper_tid.set_value(::gettid());
        signal.wait();
        woke = true;
    });
    const Tid tid = sleeper_tid.get_future().get();
    std::this_thread::sleep_for(std::chrono::milliseconds(50)); // asleep in the wait by now
    SchedstatCpuSource source;
    REQUIRE(source.open(tid));
    const auto asleep = source.read_line(tid);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(source.read_line(tid) == asleep); // not moved while asleep
    wake.set_value();
    while (!woke) {
        std::this_thread::yield();
    }
    sleeper.join();
    const auto after = source.read_line(tid);
    REQUIRE(asleep);
    if (after) { // the thread may be gone from /proc already
        CHECK(after->switches_in > asleep->switches_in);
        CHECK(after->runtime_ns > asleep->runtime_ns);
    }

    std::atomic<bool> stop{false};
    std::promise<Tid> spinner_tid;
    std::thread spinner([&] {
        spinner_tid.set_value(::gettid());
        while (!stop.load(std::memory_order_relaxed)) {
        }
    });
    const Tid spinning = spinner_tid.get_future().get();
    REQUIRE(source.open(spinning));
    int unchanged = 0;
    for (int i = 0; i < 200; ++i) {
        const auto a = source.read_line(spinning);
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        const auto b = source.read_line(spinning);
        unchanged += (a && a == b) ? 1 : 0;
    }
    stop = true;
    spinner.join();
    INFO("pairs of reads 100 µs apart that matched while the thread ran: " << unchanged);
    CHECK(unchanged > 0); // what a runtime-only idle check mistook for idleness
}

TEST_CASE("within a tick a thread's schedstat line is read once, and again the next tick",
          "[sampling]") {
    // A thread that sleeps and wakes every 200 µs moves its schedstat line between any two
    // reads a few milliseconds apart.
    std::atomic<bool> stop{false};
    std::promise<Tid> napper_tid;
    std::thread napper([&] {
        napper_tid.set_value(::gettid());
        while (!stop.load(std::memory_order_relaxed)) {
            std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    });
    const Tid tid = napper_tid.get_future().get();
    SchedstatCpuSource source;
    REQUIRE(source.open(tid));
    // Before any tick, every read reads the file.
    const auto first = source.read_line(tid);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const auto second = source.read_line(tid);
    REQUIRE(first);
    REQUIRE(second);
    CHECK(second->switches_in > first->switches_in);
    // In a tick, later reads give the tick's first line, however much the thread moved since.
    source.begin_tick();
    const auto in_tick = source.read_line(tid);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    CHECK(source.read_line(tid) == in_tick);
    CHECK(source.read(tid) == in_tick->runtime_ns);
    // The next tick reads it again.
    source.begin_tick();
    const auto next_tick = source.read_line(tid);
    REQUIRE(next_tick);
    CHECK(next_tick->switches_in > in_tick->switches_in);
    // A closed thread's line is not served from the tick any more.
    source.close(tid);
    CHECK_FALSE(source.read_line(tid));
    stop = true;
    napper.join();
}
