// The on-CPU state from perf switch records: the last record of a ring, decoded from synthetic
// ring images, and the rings the kernel writes for real threads of this process.
#include "cpuprof/sampling/switch_records.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <linux/perf_event.h>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <vector>

using cpuprof::Tid;
using cpuprof::sampling::SwitchRecords;

namespace {

/// A ring as the kernel maps it: the metadata page's fields that matter, and 8 record slots.
struct Ring {
    perf_event_mmap_page meta{};
    std::vector<std::byte> data = std::vector<std::byte>(64);

    Ring() { meta.data_size = data.size(); }
    /// Writes a record at the head and moves the head past it, as the kernel does.
    void write(std::uint32_t type, std::uint16_t misc) {
        const perf_event_header header{type, misc, sizeof(perf_event_header)};
        std::memcpy(data.data() + meta.data_head % data.size(), &header, sizeof header);
        meta.data_head += sizeof header;
    }
    [[nodiscard]] std::optional<bool> last() const {
        return SwitchRecords::last_switch(meta, data.data());
    }
};

constexpr std::uint16_t kOut = PERF_RECORD_MISC_SWITCH_OUT;
constexpr std::uint16_t kPreempt = PERF_RECORD_MISC_SWITCH_OUT_PREEMPT;

} // namespace

TEST_CASE("the last switch record says whether a thread is on a CPU", "[sampling]") {
    Ring ring;
    CHECK_FALSE(ring.last()); // no record yet
    ring.write(PERF_RECORD_SWITCH, 0);
    CHECK(ring.last() == true); // switched in
    ring.write(PERF_RECORD_SWITCH, kOut);
    CHECK(ring.last() == false); // switched out to sleep
    ring.write(PERF_RECORD_SWITCH, 0);
    ring.write(PERF_RECORD_SWITCH, kOut | kPreempt);
    CHECK(ring.last() == true); // preempted: runnable, /proc's 'R'

    SECTION("records that wrap round the ring") {
        for (int i = 0; i < 13; ++i) {
            ring.write(PERF_RECORD_SWITCH, (i % 2 == 0) ? 0 : kOut);
        }
        REQUIRE(ring.meta.data_head == 17 * 8); // past the end twice: slot 0 holds the last
        CHECK(ring.last() == true);
        ring.write(PERF_RECORD_SWITCH, kOut);
        CHECK(ring.last() == false);
    }
    SECTION("a record that is not a switch tells nothing") {
        ring.write(PERF_RECORD_LOST, 0);
        CHECK_FALSE(ring.last());
    }
    SECTION("a ring of no size or of a size records do not divide tells nothing") {
        ring.meta.data_size = 0;
        CHECK_FALSE(ring.last());
        ring.meta.data_size = 60;
        CHECK_FALSE(ring.last());
    }
}

TEST_CASE("switch rings of real threads follow them on and off a CPU", "[sampling]") {
    std::mutex mutex;
    std::condition_variable changed;
    int step = 0; // 1: spin until `spinning` is cleared; 2: exit
    std::atomic<bool> spinning{false};
    std::atomic<Tid> tid{0};
    std::thread worker([&] {
        tid = static_cast<Tid>(::gettid());
        for (;;) {
            std::unique_lock lock(mutex);
            changed.wait(lock, [&] { return step != 0; });
            if (step == 2) {
                return;
            }
            step = 0;
            lock.unlock();
            while (spinning.load()) {
            }
        }
    });
    while (tid.load() == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20)); // asleep in wait()
    auto poke = [&](int to) {
        {
            std::lock_guard lock(mutex);
            step = to;
        }
        changed.notify_one();
    };

    SwitchRecords records;
    if (!records.open(tid)) {
        WARN("perf_event_open of a switch-recording event refused here: real rings not checked");
        poke(2);
        worker.join();
        return;
    }
    CHECK(records.is_open(tid));
    // Asleep since before its ring: no record, so unknown until told what it was.
    CHECK_FALSE(records.on_cpu(tid));
    records.set_unswitched(tid, false);
    CHECK(records.on_cpu(tid) == false);

    spinning = true;
    poke(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    CHECK(records.on_cpu(tid) == true); // switched in, spinning (or preempted: runnable)

    spinning = false;
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    CHECK(records.on_cpu(tid) == false); // back asleep in wait()

    CHECK_FALSE(records.on_cpu(tid + 1000000)); // never opened
    records.close(tid);
    CHECK_FALSE(records.is_open(tid));
    CHECK_FALSE(records.on_cpu(tid));
    poke(2);
    worker.join();
}

TEST_CASE("the rings of the threads that switch most are closed over the budget", "[sampling]") {
    using V = std::vector<std::size_t>;
    const std::vector<std::uint64_t> records{40, 0, 900, 60, 2};
    CHECK(SwitchRecords::over_budget(records, 1002).empty());       // 1002 written: within
    CHECK(SwitchRecords::over_budget(records, 1001) == V{2});       // the busiest goes first
    CHECK(SwitchRecords::over_budget(records, 102) == V{2});        // 102 left: enough
    CHECK(SwitchRecords::over_budget(records, 100) == V{2, 3});     // then the next busiest
    CHECK(SwitchRecords::over_budget(records, 0) == V{2, 3, 0, 4}); // all that wrote any
    CHECK(SwitchRecords::over_budget({}, 0).empty());
}

TEST_CASE("a thread that switches often loses its ring and rests before the next", "[sampling]") {
    // Two threads passing a byte back and forth switch thousands of times a second; a third
    // sleeps throughout.
    int there[2];
    int back[2];
    REQUIRE(::pipe(there) == 0);
    REQUIRE(::pipe(back) == 0);
    std::atomic<bool> stop{false};
    std::atomic<Tid> ping{0};
    std::atomic<Tid> pong{0};
    std::atomic<Tid> sleeper{0};
    std::thread a([&] {
        ping = static_cast<Tid>(::gettid());
        char c = 'x';
        while (!stop.load()) {
            if (::write(there[1], &c, 1) != 1 || ::read(back[0], &c, 1) != 1) {
                break;
            }
        }
        ::close(there[1]);
    });
    std::thread b([&] {
        pong = static_cast<Tid>(::gettid());
        char c = 0;
        while (::read(there[0], &c, 1) == 1) {
            if (::write(back[1], &c, 1) != 1) {
                break;
            }
        }
        ::close(back[1]);
    });
    std::mutex mutex;
    std::condition_variable done;
    std::thread c([&] {
        sleeper = static_cast<Tid>(::gettid());
        std::unique_lock lock(mutex);
        done.wait(lock, [&] { return stop.load(); });
    });
    while (ping.load() == 0 || pong.load() == 0 || sleeper.load() == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    auto finish = [&] {
        {
            std::lock_guard lock(mutex);
            stop = true;
        }
        done.notify_all();
        a.join();
        b.join();
        c.join();
        ::close(there[0]);
        ::close(back[0]);
    };

    SwitchRecords records;
    if (!records.open(ping) || !records.open(pong) || !records.open(sleeper)) {
        WARN("perf_event_open of a switch-recording event refused here: budget not checked");
        finish();
        return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    // 100 records in 100 ms, as at 1 kHz: the two busy rings go, the sleeper's stays.
    CHECK(records.keep_within(100) == 2);
    CHECK_FALSE(records.is_open(ping));
    CHECK_FALSE(records.is_open(pong));
    CHECK(records.is_open(sleeper));
    CHECK(records.open_rings() == 1);
    // Resting: not opened again for kRestPeriods calls.
    CHECK_FALSE(records.open(ping));
    for (std::uint32_t i = 0; i < SwitchRecords::kRestPeriods - 1; ++i) {
        CHECK(records.keep_within(100) == 0);
    }
    CHECK_FALSE(records.open(ping));
    CHECK(records.keep_within(100) == 0);
    CHECK(records.open(ping)); // rested
    // A thread forgotten (it exited) and its tid reused starts afresh.
    records.close(pong);
    CHECK(records.open(pong));
    finish();
}
