#pragma once

#include "cpuprof/profile/frame_table.hpp"
#include "cpuprof/profile/profile.hpp"
#include "cpuprof/profile/stack_table.hpp"

#include <string>

namespace cpuprof::output {

/// The stacks as the formats without a thread dimension show them (collapsed, svg, summary).
/// Without per_thread, stacks of different threads with the same frames are one stack (thread 0).
/// With per_thread, every stack starts with a Thread frame `thread <tid> "<name>"`. An empty stack
/// becomes a `<no frames>` marker so that its samples stay visible and countable.
struct MergedStacks {
    profile::FrameTable frames; ///< the profile's frames (same ids), then the added ones
    profile::StackTable stacks; ///< only stacks with at least one sample
};

[[nodiscard]] MergedStacks merge_stacks(const profile::Profile& profile);

/// The root frame of a thread's stacks: `thread 4242 "MainThread"`.
[[nodiscard]] profile::Frame thread_frame(Tid tid, const std::string& name);

/// The name recorded for `tid` in profile.threads, or "" when there is none.
[[nodiscard]] std::string thread_name(const profile::Profile& profile, Tid tid);

} // namespace cpuprof::output
