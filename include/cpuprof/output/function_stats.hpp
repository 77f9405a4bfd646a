#pragma once

#include "cpuprof/profile/frame.hpp"
#include "cpuprof/profile/frame_table.hpp"
#include "cpuprof/profile/stack_table.hpp"

#include <cstdint>
#include <vector>

namespace cpuprof::output {

/// Samples of one function: a frame without its line, so every line of a function adds up.
struct FunctionStats {
    profile::Frame function; ///< line is 0
    std::uint64_t own = 0;   ///< samples with the function as the leaf
    std::uint64_t total = 0; ///< samples of stacks it appears in, once per stack (recursion)
};

/// Every function of the stacks, in first-seen order. Thread frames are not functions and are
/// left out.
[[nodiscard]] std::vector<FunctionStats> function_stats(const profile::FrameTable& frames,
                                                        const profile::StackTable& stacks);

} // namespace cpuprof::output
