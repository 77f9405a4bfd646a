#include "cpuprof/profile/stack_table.hpp"

#include <algorithm>

namespace cpuprof::profile {

std::uint64_t StackTable::hash_of(Tid thread, std::span<const FrameId> frames) noexcept {
    // FNV-1a over the thread id and the frame ids.
    std::uint64_t h = 1469598103934665603ULL;
    auto mix = [&h](std::uint64_t v) {
        h ^= v;
        h *= 1099511628211ULL;
    };
    mix(static_cast<std::uint64_t>(static_cast<std::uint32_t>(thread)));
    for (FrameId f : frames) {
        mix(f);
    }
    return h;
}

StackId StackTable::intern(Tid thread, std::span<const FrameId> frames) {
    const auto h = hash_of(thread, frames);
    auto [first, last] = index_.equal_range(h);
    for (auto it = first; it != last; ++it) {
        const Entry& e = entries_[it->second];
        if (e.thread == thread && std::ranges::equal(this->frames(it->second), frames)) {
            return it->second;
        }
    }
    const auto id = static_cast<StackId>(entries_.size());
    entries_.push_back(Entry{static_cast<std::uint32_t>(frame_store_.size()),
                             static_cast<std::uint32_t>(frames.size()),
                             thread,
                             h,
                             {}});
    frame_store_.insert(frame_store_.end(), frames.begin(), frames.end());
    index_.emplace(h, id);
    return id;
}

std::span<const FrameId> StackTable::frames(StackId id) const {
    const Entry& e = entries_[id];
    return {frame_store_.data() + e.offset, e.length};
}

StackMetrics StackTable::totals() const {
    StackMetrics total;
    for (const auto& e : entries_) {
        total += e.metrics;
    }
    return total;
}

void StackTable::clear() {
    frame_store_.clear();
    entries_.clear();
    index_.clear();
}

} // namespace cpuprof::profile
