#include "cpuprof/flamegraph/tree.hpp"

#include <algorithm>

namespace cpuprof::flamegraph {

Tree::Tree() {
    nodes_.push_back(Node{.label = intern("all"), .kind = NodeKind::Other});
}

LabelId Tree::intern(std::string_view label) {
    if (auto it = label_index_.find(label); it != label_index_.end()) {
        return it->second;
    }
    const auto id = static_cast<LabelId>(labels_.size());
    labels_.emplace_back(label);
    label_index_.emplace(labels_.back(), id);
    return id;
}

namespace {

constexpr std::uint64_t kEmptySlot = ~std::uint64_t{0}; ///< no parent has id 2^32 - 1

std::uint64_t mix(std::uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return key;
}

} // namespace

std::size_t Tree::slot_of(std::uint64_t key) const {
    const std::size_t mask = slot_keys_.size() - 1;
    std::size_t i = mix(key) & mask;
    while (slot_keys_[i] != key && slot_keys_[i] != kEmptySlot) {
        i = (i + 1) & mask;
    }
    return i;
}

void Tree::grow_index() {
    std::vector<std::uint64_t> keys(std::max<std::size_t>(1024, slot_keys_.size() * 2), kEmptySlot);
    std::vector<NodeId> nodes(keys.size());
    keys.swap(slot_keys_);
    nodes.swap(slot_nodes_);
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (keys[i] != kEmptySlot) {
            const std::size_t slot = slot_of(keys[i]);
            slot_keys_[slot] = keys[i];
            slot_nodes_[slot] = nodes[i];
        }
    }
}

NodeId Tree::child(NodeId parent, const StackFrame& frame) {
    const LabelId label = intern(frame.label);
    const std::uint64_t key = (std::uint64_t{parent} << 32) | label;
    // At most half full, so probe sequences stay short.
    if (nodes_.size() * 2 >= slot_keys_.size()) {
        grow_index();
    }
    const std::size_t slot = slot_of(key);
    if (slot_keys_[slot] == key) {
        return slot_nodes_[slot];
    }
    const auto id = static_cast<NodeId>(nodes_.size());
    slot_keys_[slot] = key;
    slot_nodes_[slot] = id;
    Node& p = nodes_[parent];
    const Node node{.label = label,
                    .kind = frame.kind,
                    .depth = p.depth + 1,
                    .parent = parent,
                    .next_sibling = p.first_child};
    p.first_child = id;
    nodes_.push_back(node); // after the last use of `p`: this may reallocate
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
    for (NodeId c = nodes_[id].first_child; c != kNoNode; c = nodes_[c].next_sibling) {
        in_children += nodes_[c].total.samples;
    }
    const std::uint64_t total = nodes_[id].total.samples;
    return total > in_children ? total - in_children : 0;
}

std::vector<NodeId> Tree::sorted_children(NodeId id) const {
    std::vector<NodeId> children;
    for (NodeId c = nodes_[id].first_child; c != kNoNode; c = nodes_[c].next_sibling) {
        children.push_back(c);
    }
    std::ranges::sort(children, [this](NodeId a, NodeId b) { return label(a) < label(b); });
    return children;
}

} // namespace cpuprof::flamegraph
