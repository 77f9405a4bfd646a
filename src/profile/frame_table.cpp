#include "cpuprof/profile/frame_table.hpp"

#include <functional>

namespace cpuprof::profile {

std::size_t FrameTable::Hash::operator()(const Frame& f) const noexcept {
    std::size_t h = std::hash<std::string>{}(f.name);
    h = h * 31 + std::hash<std::string>{}(f.file);
    h = h * 31 + static_cast<std::size_t>(f.line);
    return h * 31 + static_cast<std::size_t>(f.kind);
}

FrameId FrameTable::intern(const Frame& frame) {
    if (auto it = index_.find(frame); it != index_.end()) {
        return it->second;
    }
    auto id = static_cast<FrameId>(frames_.size());
    frames_.push_back(frame);
    index_.emplace(frame, id);
    return id;
}

} // namespace cpuprof::profile
