#include "cpuprof/flamegraph/tree.hpp"

#include <algorithm>
#include <cstring>

namespace cpuprof::flamegraph {

Tree::Tree() {
    nodes_.push_back(Node{.label = "all", .kind = NodeKind::Other});
}

NodeId Tree::child(NodeId parent, const StackFrame& frame) {
    key_.assign(sizeof parent, '\0');
    std::memcpy(key_.data(), &parent, sizeof parent);
    key_.append(frame.label);
    if (auto it = index_.find(key_); it != index_.end()) {
        return it->second;
    }
    const auto id = static_cast<NodeId>(nodes_.size());
    nodes_.push_back(Node{.label = std::string(frame.label),
                          .kind = frame.kind,
                          .parent = parent,
                          .depth = nodes_[parent].depth + 1});
    nodes_[parent].children.push_back(id);
    index_.emplace(key_, id);
    return id;
}

void Tree::add(std::span<const StackFrame> frames, const NodeMetrics& metrics) {
    NodeId current = kRoot;
    nodes_[kRoot].total += metrics;
    for (const StackFrame& frame : frames) {
        current = child(current, frame);
        nodes_[current].total += metrics;
    }
}

std::uint64_t Tree::self_samples(NodeId id) const {
    std::uint64_t in_children = 0;
    for (NodeId c : nodes_[id].children) {
        in_children += nodes_[c].total.samples;
    }
    const std::uint64_t total = nodes_[id].total.samples;
    return total > in_children ? total - in_children : 0;
}

std::vector<NodeId> Tree::sorted_children(NodeId id) const {
    std::vector<NodeId> children = nodes_[id].children;
    std::ranges::sort(children, [this](NodeId a, NodeId b) {
        return nodes_[a].label < nodes_[b].label;
    });
    return children;
}

} // namespace cpuprof::flamegraph
