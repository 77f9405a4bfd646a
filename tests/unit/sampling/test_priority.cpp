// The sampling thread's scheduling class, set on real threads of this process and read back from
// the kernel (sched_getattr): each class asked for is what the kernel then reports, and a class
// that could not be had says why.
#include "cpuprof/sampling/priority.hpp"

#include <catch2/catch.hpp>
#include <sched.h>
#include <string>
#include <thread>

using cpuprof::sampling::kSamplerSliceNs;
using cpuprof::sampling::PriorityOutcome;
using cpuprof::sampling::SamplerPriority;
using cpuprof::sampling::SchedulingState;

namespace {

struct Trial {
    PriorityOutcome outcome;
    std::optional<SchedulingState> before;
    std::optional<SchedulingState> raised;
    std::optional<SchedulingState> lowered;
};

// In a thread of its own, so that the test runner's threads keep their class.
Trial raise_in_thread(SamplerPriority best) {
    Trial trial;
    std::thread([&] {
        trial.before = cpuprof::sampling::scheduling_state();
        trial.outcome = cpuprof::sampling::raise_sampling_priority(best);
        trial.raised = cpuprof::sampling::scheduling_state();
        cpuprof::sampling::lower_sampling_priority();
        trial.lowered = cpuprof::sampling::scheduling_state();
    }).join();
    return trial;
}

// What the kernel reports for each class.
void check_reported(SamplerPriority priority,
                    const SchedulingState& state,
                    const SchedulingState& before) {
    switch (priority) {
    case SamplerPriority::ShortSlice:
        CHECK(state.policy == SCHED_OTHER);
        CHECK(state.slice_ns == kSamplerSliceNs);
        break;
    case SamplerPriority::RealTime:
        CHECK(state.policy == SCHED_FIFO);
        CHECK(state.rt_priority == static_cast<std::uint32_t>(sched_get_priority_min(SCHED_FIFO)));
        break;
    case SamplerPriority::Normal:
        CHECK(state.policy == before.policy);
        CHECK(state.slice_ns == before.slice_ns);
        break;
    }
}

} // namespace

TEST_CASE("the sampler's class is the best the kernel allows, and is undone", "[sampling]") {
    const Trial trial = raise_in_thread(SamplerPriority::ShortSlice);
    REQUIRE(trial.before);
    REQUIRE(trial.raised);
    REQUIRE(trial.lowered);
    WARN("sampler class on this kernel: "
         << cpuprof::sampling::priority_name(trial.outcome.priority)
         << (trial.outcome.note.empty() ? "" : " (" + trial.outcome.note + ")"));
    check_reported(trial.outcome.priority, *trial.raised, *trial.before);
    if (trial.outcome.priority == SamplerPriority::ShortSlice) {
        CHECK(trial.outcome.note.empty());
    } else {
        // Before Linux 6.12 the slice is ignored: read back, it is not the one asked for.
        CHECK(trial.raised->slice_ns != kSamplerSliceNs);
        CHECK(trial.outcome.note.find("custom slices") != std::string::npos);
    }
    // Back to the normal class with the kernel's own slice.
    CHECK(trial.lowered->policy == SCHED_OTHER);
    CHECK(trial.lowered->slice_ns == trial.before->slice_ns);
}

TEST_CASE("real-time priority is asked for without trying a slice first", "[sampling]") {
    const Trial trial = raise_in_thread(SamplerPriority::RealTime);
    REQUIRE(trial.raised);
    REQUIRE(trial.lowered);
    if (trial.outcome.priority == SamplerPriority::RealTime) {
        CHECK(trial.outcome.note.empty());
    } else {
        WARN("real-time priority not allowed here: " << trial.outcome.note);
        CHECK(trial.outcome.priority == SamplerPriority::Normal);
        CHECK(trial.outcome.note.find("real-time priority refused") != std::string::npos);
        CHECK(trial.outcome.note.find("custom slices") == std::string::npos);
    }
    check_reported(trial.outcome.priority, *trial.raised, *trial.before);
    CHECK(trial.lowered->policy == SCHED_OTHER);
    CHECK(trial.lowered->rt_priority == 0);
}

TEST_CASE("the normal class leaves the thread as it was", "[sampling]") {
    const Trial trial = raise_in_thread(SamplerPriority::Normal);
    REQUIRE(trial.raised);
    CHECK(trial.outcome.priority == SamplerPriority::Normal);
    check_reported(SamplerPriority::Normal, *trial.raised, *trial.before);
    CHECK(std::string(cpuprof::sampling::priority_name(SamplerPriority::ShortSlice)) ==
          "short-slice");
    CHECK(std::string(cpuprof::sampling::priority_name(SamplerPriority::RealTime)) == "real-time");
    CHECK(std::string(cpuprof::sampling::priority_name(SamplerPriority::Normal)) == "normal");
}
