#pragma once

#include "cpuprof/profile/frame.hpp"

#include <cstdint>
#include <deque>
#include <unordered_map>

namespace cpuprof::profile {

using FrameId = std::uint32_t;

/// Interns frames: each distinct frame is stored once and named by a dense id (0, 1, 2, ...).
class FrameTable {
  public:
    FrameId intern(const Frame& frame);
    [[nodiscard]] const Frame& operator[](FrameId id) const { return frames_[id]; }
    [[nodiscard]] std::size_t size() const noexcept { return frames_.size(); }

  private:
    struct Hash {
        std::size_t operator()(const Frame& f) const noexcept;
    };
    std::deque<Frame> frames_;
    std::unordered_map<Frame, FrameId, Hash> index_;
};

} // namespace cpuprof::profile
