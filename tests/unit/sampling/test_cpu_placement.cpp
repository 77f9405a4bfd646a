// Keeping the sampling thread off the target's CPUs: the decision, the move of a real thread,
// and the CPU of a live interpreter's thread as a snapshot reads it.
#include "cpuprof/process/child_process.hpp"
#include "cpuprof/sampling/cpu_placement.hpp"
#include "cpuprof/sampling/target.hpp"
#include "unit/python/live_fixture.hpp"

#include <catch2/catch.hpp>
#include <sched.h>
#include <string>
#include <thread>
#include <vector>

using cpuprof::sampling::CpuPlacement;

namespace {

cpu_set_t cpus(std::initializer_list<int> list) {
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int cpu : list) {
        CPU_SET(cpu, &set);
    }
    return set;
}

std::vector<int> allowed_cpus() {
    cpu_set_t set;
    std::vector<int> out;
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
            if (CPU_ISSET(cpu, &set)) {
                out.push_back(cpu);
            }
        }
    }
    return out;
}

bool same(const std::optional<cpu_set_t>& a, const cpu_set_t& b) {
    return a && CPU_EQUAL(&*a, &b);
}

} // namespace

TEST_CASE("the sampler moves only off a CPU the target runs on, to the free ones",
          "[sampling][placement]") {
    const cpu_set_t four = cpus({0, 1, 2, 3});
    // Not on a busy CPU: stay, whatever else is busy.
    CHECK_FALSE(CpuPlacement::decide(four, four, cpus({1, 2}), 0));
    CHECK_FALSE(CpuPlacement::decide(four, four, cpus({}), 0));
    // On a busy CPU: to every allowed CPU the target does not run on.
    CHECK(same(CpuPlacement::decide(four, four, cpus({0, 2}), 2), cpus({1, 3})));
    // Restricted earlier, and on a CPU the target has moved to since: the restriction follows.
    CHECK(same(CpuPlacement::decide(four, cpus({1, 3}), cpus({3}), 3), cpus({0, 1, 2})));
    // Every allowed CPU busy: an earlier restriction is lifted, none is made.
    CHECK(same(CpuPlacement::decide(four, cpus({1}), four, 1), four));
    CHECK_FALSE(CpuPlacement::decide(four, four, four, 1));
    // A CPU it may not use counts for nothing.
    CHECK(same(CpuPlacement::decide(cpus({0, 1}), cpus({0, 1}), cpus({1, 5}), 1), cpus({0})));
    // sched_getcpu() failed.
    CHECK_FALSE(CpuPlacement::decide(four, four, four, -1));
}

TEST_CASE("a thread found on a busy CPU moves off it at once, then may go anywhere again",
          "[sampling][placement]") {
    const std::vector<int> allowed = allowed_cpus();
    if (allowed.size() < 2) {
        WARN("only " << allowed.size() << " CPU allowed here: nowhere to move, unchecked");
        return;
    }
    struct Seen {
        bool can_move = false;
        bool pinned = false;
        bool moved = false;
        int cpu_after = -1;
        int allowed_after = 0;
        bool all_busy_kept = true;
        bool stayed = true;
        std::uint64_t colocated = 0;
        std::uint64_t moves = 0;
    } seen;
    const int busy = allowed.front();
    std::thread([&] {
        CpuPlacement placement;
        seen.can_move = placement.can_move();
        // Put the thread on `busy` first (as if the kernel had woken it there).
        const cpu_set_t only = cpus({busy});
        seen.pinned = ::sched_setaffinity(0, sizeof only, &only) == 0 && ::sched_getcpu() == busy;
        placement.begin_tick();
        placement.mark_busy(static_cast<unsigned>(busy));
        seen.moved = placement.settle();
        seen.cpu_after = ::sched_getcpu();
        cpu_set_t now;
        if (::sched_getaffinity(0, sizeof now, &now) == 0) {
            seen.allowed_after = CPU_COUNT(&now); // every allowed CPU again, `busy` too
        }
        // Every CPU busy: nowhere better, and no restriction left to lift.
        placement.begin_tick();
        for (int cpu : allowed) {
            placement.mark_busy(static_cast<unsigned>(cpu));
        }
        seen.all_busy_kept = !placement.settle();
        // Nothing busy: nothing to do.
        placement.begin_tick();
        seen.stayed = !placement.settle();
        seen.colocated = placement.colocated();
        seen.moves = placement.moves();
    }).join();
    REQUIRE(seen.can_move);
    REQUIRE(seen.pinned);
    CHECK(seen.moved);
    CHECK(seen.cpu_after != busy);
    CHECK(seen.allowed_after == static_cast<int>(allowed.size()));
    CHECK(seen.all_busy_kept);
    CHECK(seen.stayed);
    CHECK(seen.colocated == 2);
    CHECK(seen.moves == 1);
}

namespace {

void check_thread_cpu(const std::string& executable) {
    const std::vector<int> allowed = allowed_cpus();
    for (std::size_t i = 0; i < allowed.size() && i < 2; ++i) {
        const int cpu = allowed[allowed.size() - 1 - i]; // the last CPU first: not always 0
        cpuprof::test::ScratchDir scratch("cpuprof-cpu-");
        const auto ready = scratch.path() / "ready";
        const std::string script = std::string(CPUPROF_PYTHON_TEST_DATA) + "/pinned_spin.py";
        auto child = cpuprof::process::ChildProcess::spawn(
            {executable, script, ready.string(), std::to_string(cpu)});
        REQUIRE(cpuprof::test::wait_for_file(ready, child));
        auto target = cpuprof::sampling::Target::attach(child.pid());
        if (!target->knows_cpus()) {
            WARN("no rseq area in " << executable << " (C library older than glibc 2.35?)");
            return;
        }
        auto& reader = target->reader();
        REQUIRE(reader.threads().size() == 1);
        reader.take_snapshot();
        const auto seen = target->thread_cpu(reader.threads().front());
        reader.drop_snapshot();
        CHECK(seen == static_cast<unsigned>(cpu));
        // Outside a snapshot nothing is known.
        CHECK_FALSE(target->thread_cpu(reader.threads().front()));
    }
}

} // namespace

TEST_CASE("a snapshot tells the CPU each thread of a live interpreter runs on",
          "[sampling][placement][live]") {
    CHECK_FALSE(cpuprof::test::for_each_live_python(check_thread_cpu).empty());
}
