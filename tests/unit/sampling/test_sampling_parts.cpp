// The sampler's parts that need no target: the ticker's bookkeeping, counter delta attribution
// (with a fake counter source standing in for perf_event_open), RSS and /proc stat parsing.
#include "cpuprof/process/proc_maps.hpp"
#include "cpuprof/process/proc_stat.hpp"
#include "cpuprof/sampling/counters.hpp"
#include "cpuprof/sampling/rss.hpp"
#include "cpuprof/sampling/schedstat.hpp"
#include "cpuprof/sampling/ticker.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <map>
#include <thread>
#include <unistd.h>

using namespace cpuprof;
using namespace cpuprof::sampling;

namespace {

/// A counter source whose values the test sets, like a per-thread hardware counter.
class FakeCounters final : public CounterSource {
  public:
    std::map<Tid, std::uint64_t> values;
    std::map<Tid, bool> openable;
    int opens = 0;

    bool open(Tid tid) override {
        ++opens;
        if (!openable[tid]) {
            return false;
        }
        opened_[tid] = true;
        return true;
    }
    std::optional<std::uint64_t> read(Tid tid) override {
        if (!opened_[tid] || !values.contains(tid)) {
            return std::nullopt;
        }
        return values[tid];
    }
    void close(Tid tid) override { opened_[tid] = false; }

  private:
    std::map<Tid, bool> opened_;
};

} // namespace

TEST_CASE("the ticker keeps absolute deadlines and counts lost and late ticks", "[sampling]") {
    Ticker ticker(1000, false); // 1 ms, no jitter: the deadlines are the grid
    ticker.start_at(0);
    Tick tick;
    ticker.account(0, tick); // on time
    CHECK(tick.index == 0);
    CHECK(tick.lost == 0);
    CHECK_FALSE(tick.late);
    CHECK(ticker.next_deadline_ns() == 1'000'000);

    ticker.account(1'200'000, tick); // 0.2 ms late: not late, deadlines unchanged
    CHECK(tick.index == 1);
    CHECK_FALSE(tick.late);
    CHECK(ticker.next_deadline_ns() == 2'000'000); // no drift: start + 2 periods

    ticker.account(2'700'000, tick); // 0.7 ms late: late
    CHECK(tick.index == 2);
    CHECK(tick.late);

    ticker.account(7'100'000, tick); // deadlines 3, 4, 5, 6 ms passed: 4 lost, serving 7 ms
    CHECK(tick.lost == 4);
    CHECK(tick.index == 7);
    CHECK_FALSE(tick.late);
    CHECK(ticker.next_deadline_ns() == 8'000'000);
}

TEST_CASE("jittered deadlines fall one per period, anywhere in it", "[sampling]") {
    Ticker ticker(1000); // 1 ms
    ticker.start_at(0);
    std::int64_t early = 0;
    std::int64_t late_half = 0;
    Tick tick;
    for (std::int64_t k = 0; k < 2000; ++k) {
        const std::int64_t deadline = ticker.next_deadline_ns();
        REQUIRE(deadline >= k * 1'000'000);
        REQUIRE(deadline < (k + 1) * 1'000'000);
        (deadline - k * 1'000'000 < 500'000 ? early : late_half)++;
        ticker.account(deadline, tick); // serviced exactly on time
        REQUIRE(tick.index == static_cast<std::uint64_t>(k));
        REQUIRE(tick.lost == 0);
        REQUIRE_FALSE(tick.late);
    }
    // Uniform over the period: both halves get about half of the deadlines.
    CHECK(early > 800);
    CHECK(late_half > 800);
}

TEST_CASE("the ticker sleeps until its deadlines without drifting", "[sampling]") {
    Ticker ticker(200); // 5 ms
    const auto start = monotonic_ns();
    ticker.start_at(start);
    Tick tick;
    for (int i = 0; i < 10; ++i) {
        REQUIRE(ticker.wait(tick));
    }
    CHECK(tick.index + tick.lost >= 9);
    CHECK(monotonic_ns() - start >= 45'000'000); // ten deadlines 5 ms apart, the first at once
    std::atomic<bool> stop{true};
    CHECK_FALSE(ticker.wait(tick, &stop));
}

TEST_CASE("after a pause the ticker skips the paused deadlines without counting them lost",
          "[sampling]") {
    Ticker ticker(1000, false); // 1 ms, no jitter
    ticker.start_at(0);
    Tick tick;
    ticker.account(0, tick);
    CHECK(tick.index == 0);
    ticker.account(1'000'000, tick);
    CHECK(tick.index == 1);
    // Paused from 1 ms to 10.5 ms: the next deadline is at the resume, the index counts the gap.
    ticker.resume_at(10'500'000);
    CHECK(ticker.next_deadline_ns() == 10'500'000);
    ticker.account(10'500'000, tick);
    CHECK(tick.index == 10);
    CHECK(tick.lost == 0);
    CHECK_FALSE(tick.late);
    ticker.account(11'500'000, tick);
    CHECK(tick.index == 11);
    // A resume before the next deadline changes nothing but the jitter.
    ticker.resume_at(12'000'000);
    CHECK(ticker.next_deadline_ns() == 12'500'000);
}

TEST_CASE("counter deltas go to the sample that follows them", "[sampling]") {
    FakeCounters counters;
    counters.openable[10] = true;
    counters.openable[11] = true;
    counters.values[10] = 1000;
    counters.values[11] = 50;
    DeltaAttributor deltas(counters);
    CHECK(deltas.delta(10) == 0); // first sample of a thread sets its baseline
    CHECK(deltas.delta(11) == 0);
    counters.values[10] = 1700;
    counters.values[11] = 80;
    CHECK(deltas.delta(10) == 700);
    CHECK(deltas.delta(11) == 30);
    CHECK(deltas.delta(10) == 0); // nothing retired since
    counters.values[10] = 1600;   // a counter going backwards never yields a huge delta
    CHECK(deltas.delta(10) == 0);
    counters.values[10] = 1650;
    CHECK(deltas.delta(10) == 50);
    deltas.forget(11); // the thread exited; a new thread with the same id starts from scratch
    counters.values[11] = 5000;
    CHECK(deltas.delta(11) == 0);
    counters.values[11] = 5001;
    CHECK(deltas.delta(11) == 1);
}

TEST_CASE("threads whose counter cannot be opened are not retried every sample", "[sampling]") {
    FakeCounters counters;
    counters.openable[12] = false;
    DeltaAttributor deltas(counters);
    CHECK(deltas.delta(12) == 0);
    CHECK(deltas.delta(12) == 0);
    CHECK(deltas.delta(12) == 0);
    CHECK(counters.opens == 1);
}

TEST_CASE("the hardware instruction counter is probed honestly", "[sampling]") {
    auto problem = PerfCounterSource::probe(PerfCounterSource::Event::Instructions, ::getpid());
    if (problem) {
        // These VMs have no PMU: the reason must say so rather than invent a number.
        CHECK(problem->find("perf_event_open") != std::string::npos);
        WARN("hardware instructions unavailable here: " << *problem);
    } else {
        PerfCounterSource source(PerfCounterSource::Event::Instructions);
        REQUIRE(source.open(::gettid()));
        const auto a = source.read(::gettid());
        volatile std::uint64_t x = 0;
        for (int i = 0; i < 1'000'000; ++i) {
            x = x + static_cast<std::uint64_t>(i);
        }
        const auto b = source.read(::gettid());
        REQUIRE(a);
        REQUIRE(b);
        CHECK(*b - *a > 1'000'000);
    }
    // The software task clock works everywhere and counts this thread's CPU time.
    PerfCounterSource clock(PerfCounterSource::Event::TaskClock);
    REQUIRE(clock.open(::gettid()));
    const auto before = clock.read(::gettid());
    volatile std::uint64_t y = 0;
    for (int i = 0; i < 5'000'000; ++i) {
        y = y + static_cast<std::uint64_t>(i);
    }
    const auto after = clock.read(::gettid());
    REQUIRE(before);
    REQUIRE(after);
    CHECK(*after > *before);
}

TEST_CASE("per-thread CPU time comes from schedstat, without interrupting the thread",
          "[sampling]") {
    CHECK(SchedstatCpuSource::parse("1015542473 229331 19\n") == 1'015'542'473ULL);
    CHECK_FALSE(SchedstatCpuSource::parse("garbage"));
    CHECK_FALSE(SchedstatCpuSource::parse("123"));
    CHECK_FALSE(SchedstatCpuSource::parse(""));
    REQUIRE(SchedstatCpuSource::available(::getpid()));

    // A second thread burns CPU; its runtime grows by about what it burned, ours does not.
    std::atomic<bool> go{false};
    std::atomic<bool> done{false};
    std::atomic<bool> release{false};
    std::atomic<Tid> worker_tid{0};
    std::thread worker([&] {
        worker_tid = ::gettid();
        while (!go) {
            std::this_thread::yield();
        }
        timespec start{};
        timespec now{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start);
        volatile std::uint64_t x = 0;
        do {
            for (int i = 0; i < 100'000; ++i) {
                x = x + static_cast<std::uint64_t>(i);
            }
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
        } while ((now.tv_sec - start.tv_sec) * 1'000'000'000L + (now.tv_nsec - start.tv_nsec) <
                 50'000'000L);
        done = true;
        while (!release) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    while (worker_tid == 0) {
        std::this_thread::yield();
    }
    SchedstatCpuSource source;
    REQUIRE(source.open(worker_tid));
    const auto before = source.read(worker_tid);
    go = true;
    while (!done) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto after = source.read(worker_tid);
    release = true;
    worker.join();
    REQUIRE(before);
    REQUIRE(after);
    CHECK(*after - *before >= 45'000'000);   // the 50 ms it burned, within scheduler accounting
    CHECK(*after - *before < 2'000'000'000); // not some unrelated clock
    CHECK_FALSE(source.read(::gettid()));    // never opened
    source.close(worker_tid);
    CHECK_FALSE(source.read(worker_tid));
}

TEST_CASE("RSS comes from the second field of statm, in pages", "[sampling]") {
    CHECK(RssReader::parse("12345 678 90 1 0 2 0\n", 4096) == 678 * 4096);
    CHECK_FALSE(RssReader::parse("garbage", 4096));
    RssReader self(::getpid());
    auto rss = self.read();
    REQUIRE(rss);
    CHECK(*rss > 1024 * 1024);
}

TEST_CASE("stat lines with odd command names parse", "[process]") {
    const auto stat = process::parse_stat(
        "4242 (my (weird) prog) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 1 0 100 0 0");
    REQUIRE(stat);
    CHECK(stat->state == 'S');
    CHECK(stat->flags == 4194560);
    CHECK(stat->utime_ticks == 250);
    CHECK(stat->stime_ticks == 75);
    CHECK_FALSE(stat->running());
    CHECK_FALSE(process::parse_stat("4242 (x"));
}

TEST_CASE("maps lines parse, including paths with spaces", "[process]") {
    const auto maps = process::parse_maps(
        "55d0c0a00000-55d0c0a21000 r--p 00000000 fd:01 123 /usr/bin/python3.11\n"
        "7f0000000000-7f0000001000 rw-p 00001000 fd:01 456 /opt/my dir/libpython3.12.so.1.0\n"
        "7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n"
        "bad line\n");
    REQUIRE(maps.size() == 3);
    CHECK(maps[0].start == 0x55d0c0a00000);
    CHECK(maps[0].readable);
    CHECK_FALSE(maps[0].writable);
    CHECK(maps[1].offset == 0x1000);
    CHECK(maps[1].path == "/opt/my dir/libpython3.12.so.1.0");
    CHECK(maps[2].path == "[stack]");
    CHECK(maps[1].contains(0x7f0000000800));
}
