// The profile side of the sampler: frames interned, stacks committed with their metrics.
#include "cpuprof/sampling/sampler.hpp"

#include "cpuprof/sampling/snapshot.hpp"
#include "cpuprof/sampling/ticker.hpp"

#include <spdlog/spdlog.h>

namespace cpuprof::sampling {

void Sampler::record_stack(Process& process,
                           const python::ThreadStack& stack,
                           std::uint32_t tick_index) {
    frame_ids_.clear();
    if (process.root) {
        frame_ids_.push_back(*process.root);
    }
    for (auto it = stack.frames.rbegin(); it != stack.frames.rend(); ++it) {
        frame_ids_.push_back(frame_id(*it));
    }
    commit_stack(process, stack.tid, stack.holds_gil, tick_index);
}

void Sampler::record_mixed(Process& process,
                           const python::ThreadStack& stack,
                           std::uint32_t tick_index) {
    // The native stack was captured while the thread was held (read_selected).
    if (!process.mixed->merge(stack, mixed_frames_)) {
        profile_.stats.unmerged++;
    }
    frame_ids_.clear();
    if (process.root) {
        frame_ids_.push_back(*process.root);
    }
    for (auto it = mixed_frames_.rbegin(); it != mixed_frames_.rend(); ++it) {
        switch (it->kind) {
        case MixedFrame::Kind::Python:
            frame_ids_.push_back(frame_id(*it->python));
            break;
        case MixedFrame::Kind::Native:
            frame_ids_.push_back(native_frame_id(process, *it));
            break;
        case MixedFrame::Kind::Unmerged:
            frame_ids_.push_back(unmerged_frame_);
            break;
        }
    }
    commit_stack(process, stack.tid, stack.holds_gil, tick_index);
}

profile::FrameId Sampler::native_frame_id(Process& process, const MixedFrame& frame) {
    auto it = process.native_frames.find(frame.pc);
    if (it != process.native_frames.end()) {
        return it->second;
    }
    const auto id = profile_.frames.intern(
        {frame.native->name, frame.native->module, 0, profile::FrameKind::Native});
    process.native_frames.emplace(frame.pc, id);
    return id;
}

void Sampler::commit_stack(Process& process, Tid tid, bool holds_gil, std::uint32_t tick_index) {
    const profile::StackId id = profile_.stacks.intern(tid, frame_ids_);
    profile::StackMetrics metrics;
    metrics.samples = 1;
    if (tid != 0) {
        if (instruction_deltas_) {
            metrics.instructions = instruction_deltas_->delta(tid);
        }
        if (cpu_deltas_) {
            metrics.cpu_ns = cpu_deltas_->delta(tid);
        }
    }
    profile_.stacks.add(id, metrics);
    if (profile_.stats.thread_samples == 0) {
        // tools/bench/bench.py times attach-to-first-sample from this line: CLOCK_MONOTONIC,
        // the clock of Python's time.monotonic_ns().
        spdlog::debug("first sample at monotonic {} ns", monotonic_ns());
    }
    profile_.stats.thread_samples++;
    profile_.stats.gil_samples += holds_gil ? 1 : 0;
    auto& info = profile_.threads[tid];
    if (info.tid == 0 && tid != 0) {
        info.tid = tid;
        info.name = process.target->thread_name(tid);
    }
    info.samples++;
    if (config_.timeline) {
        profile_.timeline.push_back({tick_index, id});
    }
    tick_stacks_.push_back({id, tid, holds_gil});
}

profile::FrameId Sampler::frame_id(const python::PyFrame& frame) {
    const FrameKey key{frame.code, config_.function_only ? 0 : frame.line};
    if (const profile::FrameId* recent = recent_frames_.find(key)) {
        return *recent;
    }
    auto it = frame_cache_.find(key);
    if (it == frame_cache_.end()) {
        it = frame_cache_
                 .emplace(key, profile_.frames.intern(to_frame(frame, !config_.function_only)))
                 .first;
    }
    recent_frames_.put(key, it->second);
    return it->second;
}

void Sampler::charge_rss(std::int64_t delta) {
    if (delta == 0) {
        return;
    }
    // Python allocates while holding the GIL: charge the holder when it was sampled this tick,
    // otherwise share the change between the stacks sampled in this tick.
    for (const auto& pending : tick_stacks_) {
        if (pending.holds_gil) {
            profile_.stacks.add(pending.stack, {.rss_delta = delta});
            return;
        }
    }
    const auto n = static_cast<std::int64_t>(tick_stacks_.size());
    const std::int64_t share = delta / n;
    std::int64_t remainder = delta - share * n;
    for (const auto& pending : tick_stacks_) {
        profile_.stacks.add(pending.stack, {.rss_delta = share + remainder});
        remainder = 0;
    }
}

} // namespace cpuprof::sampling
