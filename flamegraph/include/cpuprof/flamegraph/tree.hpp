#pragma once

#include <cstdint>
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

struct Node {
    std::string label;
    NodeKind kind = NodeKind::Other;
    NodeId parent = 0;
    std::uint32_t depth = 0; ///< 0 for the root
    NodeMetrics total;       ///< inclusive of every descendant
    std::vector<NodeId> children;
};

/// One frame of a stack handed to Tree::add.
struct StackFrame {
    std::string_view label;
    NodeKind kind = NodeKind::Python;
};

/// Stacks merged by common prefix: the shape a flamegraph draws. Node 0 is the root ("all").
class Tree {
  public:
    static constexpr NodeId kRoot = 0;

    Tree();

    /// Adds one stack, root first; an empty stack charges the root alone.
    void add(std::span<const StackFrame> frames, const NodeMetrics& metrics);

    [[nodiscard]] const Node& node(NodeId id) const { return nodes_[id]; }
    [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
    [[nodiscard]] const NodeMetrics& total() const { return nodes_[kRoot].total; }
    /// Samples of `id` not accounted for by any child.
    [[nodiscard]] std::uint64_t self_samples(NodeId id) const;
    /// The children of `id` ordered by label, so the drawing does not depend on insertion order.
    [[nodiscard]] std::vector<NodeId> sorted_children(NodeId id) const;

  private:
    NodeId child(NodeId parent, const StackFrame& frame);

    std::vector<Node> nodes_;
    /// (parent id, label) -> child id, keyed by the parent id's bytes followed by the label.
    std::unordered_map<std::string, NodeId> index_;
    std::string key_; ///< reused to build lookups without allocating
};

} // namespace cpuprof::flamegraph
