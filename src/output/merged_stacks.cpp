#include "cpuprof/output/merged_stacks.hpp"

#include <fmt/format.h>
#include <vector>

namespace cpuprof::output {

profile::Frame thread_frame(Tid tid, const std::string& name) {
    return profile::Frame{.name = fmt::format("thread {} \"{}\"", tid, name),
                          .kind = profile::FrameKind::Thread};
}

std::string thread_name(const profile::Profile& profile, Tid tid) {
    const auto it = profile.threads.find(tid);
    return it == profile.threads.end() ? std::string() : it->second.name;
}

MergedStacks merge_stacks(const profile::Profile& profile) {
    MergedStacks merged{.frames = profile.frames, .stacks = {}};
    const profile::FrameId no_frames =
        merged.frames.intern({.name = "<no frames>", .kind = profile::FrameKind::Marker});
    std::vector<profile::FrameId> frames;
    for (profile::StackId id = 0; id < profile.stacks.size(); ++id) {
        const profile::StackMetrics& metrics = profile.stacks.metrics(id);
        if (metrics.samples == 0) {
            continue;
        }
        const Tid tid = profile.stacks.thread(id);
        const auto original = profile.stacks.frames(id);
        frames.clear();
        // With --subprocesses a stack starts with its process; the thread goes under it.
        auto rest = original.begin();
        if (rest != original.end() && profile.frames[*rest].kind == profile::FrameKind::Process) {
            frames.push_back(*rest++);
        }
        if (profile.per_thread) {
            frames.push_back(merged.frames.intern(thread_frame(tid, thread_name(profile, tid))));
        }
        frames.insert(frames.end(), rest, original.end());
        if (original.empty()) {
            frames.push_back(no_frames);
        }
        const auto merged_id = merged.stacks.intern(profile.per_thread ? tid : 0, frames);
        merged.stacks.add(merged_id, metrics);
    }
    return merged;
}

} // namespace cpuprof::output
