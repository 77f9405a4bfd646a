#pragma once

#include "cpuprof/flamegraph/tree.hpp"

#include <cstddef>
#include <istream>
#include <string_view>

namespace cpuprof::flamegraph {

struct CollapsedInput {
    Tree tree;
    std::size_t lines = 0;   ///< stacks read
    std::size_t ignored = 0; ///< lines without a non-negative integer count, as flamegraph.pl
};

/// Reads collapsed stacks (`frame;frame;frame COUNT` per line, root first) into a tree, so any
/// profiler's folded output can be drawn by render_svg.
[[nodiscard]] CollapsedInput read_collapsed(std::istream& in);

/// The palette a collapsed frame label suggests: `name (file.py:LINE)` is Python, `thread ...`
/// and `<marker>` are grey, anything else is native.
[[nodiscard]] NodeKind guess_kind(std::string_view label);

} // namespace cpuprof::flamegraph
