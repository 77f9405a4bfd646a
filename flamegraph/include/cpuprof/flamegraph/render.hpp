#pragma once

#include "cpuprof/flamegraph/tree.hpp"

#include <ostream>
#include <string>

namespace cpuprof::flamegraph {

/// What the tooltips report besides samples and RSS.
enum class CostMetric : std::uint8_t {
    None,         ///< samples only (e.g. a collapsed file)
    Instructions, ///< hardware instructions retired
    CpuTime,      ///< CPU time from the task clock
};

struct Options {
    std::string title = "Flame Graph";
    std::string subtitle;
    std::string count_name = "samples";
    CostMetric cost = CostMetric::None;
    bool show_rss = false;
    int width = 1200;       ///< px
    int frame_height = 16;  ///< px
    int font_size = 12;     ///< px
    double min_width = 0.1; ///< px: narrower boxes (and everything above them) are left out
};

/// Writes `tree` as one self-contained interactive SVG: root at the bottom, boxes sized by
/// samples, tooltips, click to zoom, regex search. Throws std::invalid_argument on bad options.
void render_svg(const Tree& tree, const Options& options, std::ostream& out);

} // namespace cpuprof::flamegraph
