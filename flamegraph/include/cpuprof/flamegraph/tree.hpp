#pragma once

#include <cstdint>
#include <deque>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cpuprof::flamegraph {

/// Picks the palette of a box.
enum class NodeKind : std::uint8_t {
    Python, ///< warm colours
    Native, ///< a cooler hue, so C frames stand apart from Python ones
    Other,  ///< grey: the root, thread roots and markers
};

/// What a box is sized and annotated by, summed over every stack through it.
struct NodeMetrics {
    std::uint64_t samples = 0;
    std::uint64_t instructions = 0;
    std::int64_t rss_delta = 0;
    std::uint64_t cpu_ns = 0;

    NodeMetrics& operator+=(const NodeMetrics& other) {
        samples += other.samples;
        instructions += other.instructions;
        rss_delta += other.rss_delta;
        cpu_ns += other.cpu_ns;
        return *this;
    }
};

using NodeId = std::uint32_t;
using LabelId = std::uint32_t;
inline constexpr NodeId kNoNode = std::numeric_limits<NodeId>::max();

struct Node {
    LabelId label = 0; ///< Tree::label() has the text
    NodeKind kind = NodeKind::Other;
    std::uint32_t depth = 0; ///< 0 for the root
    NodeId parent = kNoNode;
    NodeId first_child = kNoNode;
    NodeId next_sibling = kNoNode;
    NodeMetrics total; ///< inclusive of every descendant
};

/// One frame of a stack handed to Tree::add.
struct StackFrame {
    std::string_view label;
    NodeKind kind = NodeKind::Python;
};

/// Stacks merged by common prefix: the shape a flamegraph draws. Node 0 is the root ("all").
/// Labels are stored once however many nodes carry them: a large profile has millions of nodes
/// but only thousands of distinct frames.
class Tree {
  public:
    static constexpr NodeId kRoot = 0;

    Tree();

    /// Adds one stack, root first; an empty stack charges the root alone.
    void add(std::span<const StackFrame> frames, const NodeMetrics& metrics);

    [[nodiscard]] const Node& node(NodeId id) const { return nodes_[id]; }
    [[nodiscard]] const std::string& label(NodeId id) const { return labels_[nodes_[id].label]; }
    [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
    [[nodiscard]] const NodeMetrics& total() const { return nodes_[kRoot].total; }
    /// Samples of `id` not accounted for by any child.
    [[nodiscard]] std::uint64_t self_samples(NodeId id) const;
    /// The children of `id` ordered by label, so the drawing does not depend on insertion order.
    [[nodiscard]] std::vector<NodeId> sorted_children(NodeId id) const;

  private:
    LabelId intern(std::string_view label);
    NodeId child(NodeId parent, const StackFrame& frame);
    [[nodiscard]] std::size_t slot_of(std::uint64_t key) const;
    void grow_index();

    std::vector<Node> nodes_;
    std::deque<std::string> labels_; ///< a deque: label_index_ holds views into it
    std::unordered_map<std::string_view, LabelId> label_index_;
    /// (parent << 32 | label) -> child, open addressing with linear probing: one cache miss per
    /// frame where a node-based map made trees of millions of nodes take seconds to build.
    std::vector<std::uint64_t> slot_keys_;
    std::vector<NodeId> slot_nodes_;
};

} // namespace cpuprof::flamegraph
