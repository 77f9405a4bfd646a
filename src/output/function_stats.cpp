#include "cpuprof/output/function_stats.hpp"

#include <limits>

namespace cpuprof::output {

std::vector<FunctionStats> function_stats(const profile::FrameTable& frames,
                                          const profile::StackTable& stacks) {
    constexpr auto kNone = std::numeric_limits<std::uint32_t>::max();
    // Frame id -> function index, resolved once per frame rather than once per stack entry.
    std::vector<std::uint32_t> function_of(frames.size(), kNone);
    profile::FrameTable functions;
    std::vector<FunctionStats> stats;
    for (profile::FrameId id = 0; id < frames.size(); ++id) {
        const profile::Frame& frame = frames[id];
        if (frame.kind == profile::FrameKind::Thread || frame.kind == profile::FrameKind::Process) {
            continue;
        }
        profile::Frame function = frame;
        function.line = 0;
        const profile::FrameId index = functions.intern(function);
        if (index == stats.size()) {
            stats.push_back(FunctionStats{.function = std::move(function)});
        }
        function_of[id] = index;
    }
    // The last stack that counted each function, so recursion counts once per stack.
    std::vector<profile::StackId> counted_in(stats.size(), kNone);
    for (profile::StackId id = 0; id < stacks.size(); ++id) {
        const std::uint64_t samples = stacks.metrics(id).samples;
        const auto stack = stacks.frames(id);
        for (profile::FrameId frame : stack) {
            const std::uint32_t f = function_of[frame];
            if (f != kNone && counted_in[f] != id) {
                counted_in[f] = id;
                stats[f].total += samples;
            }
        }
        if (!stack.empty() && function_of[stack.back()] != kNone) {
            stats[function_of[stack.back()]].own += samples;
        }
    }
    return stats;
}

} // namespace cpuprof::output
