#pragma once

#include "cpuprof/profile/frame_table.hpp"
#include "cpuprof/types.hpp"

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

namespace cpuprof::profile {

using StackId = std::uint32_t;

/// What is added to a stack each time it is sampled.
struct StackMetrics {
    std::uint64_t samples = 0;
    std::uint64_t instructions = 0; ///< hardware instructions retired (0 when unavailable)
    std::int64_t rss_delta = 0;     ///< bytes; process-wide RSS change charged to this stack
    std::uint64_t cpu_ns = 0;       ///< CPU time of the thread charged to this stack

    StackMetrics& operator+=(const StackMetrics& other) {
        samples += other.samples;
        instructions += other.instructions;
        rss_delta += other.rss_delta;
        cpu_ns += other.cpu_ns;
        return *this;
    }
};

/// Deduplicated stacks: each distinct (thread, frames) pair is stored once, frames root first,
/// with the metrics accumulated over every sample of it.
class StackTable {
  public:
    /// Returns the id of the stack, adding it if new. `frames` is root first.
    StackId intern(Tid thread, std::span<const FrameId> frames);
    void add(StackId id, const StackMetrics& metrics) { entries_[id].metrics += metrics; }

    [[nodiscard]] std::size_t size() const noexcept { return entries_.size(); }
    [[nodiscard]] std::span<const FrameId> frames(StackId id) const;
    [[nodiscard]] Tid thread(StackId id) const { return entries_[id].thread; }
    [[nodiscard]] const StackMetrics& metrics(StackId id) const { return entries_[id].metrics; }
    [[nodiscard]] StackMetrics totals() const;

    /// Forgets every stack (the live view's reset).
    void clear();

  private:
    struct Entry {
        std::uint32_t offset; ///< into frame_store_
        std::uint32_t length;
        Tid thread;
        std::uint64_t hash;
        StackMetrics metrics;
    };
    static std::uint64_t hash_of(Tid thread, std::span<const FrameId> frames) noexcept;

    std::vector<FrameId> frame_store_;
    std::vector<Entry> entries_;
    std::unordered_multimap<std::uint64_t, StackId> index_;
};

} // namespace cpuprof::profile
