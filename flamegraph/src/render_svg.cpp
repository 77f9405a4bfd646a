#include "cpuprof/flamegraph/render.hpp"

#include "cpuprof/flamegraph/palette.hpp"
#include "cpuprof/flamegraph/text.hpp"
#include "cpuprof/flamegraph/units.hpp"
#include "svg_assets.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <stdexcept>
#include <vector>

namespace cpuprof::flamegraph {

namespace {

constexpr double kPad = 10.0;
constexpr double kFontWidth = 0.59; ///< average glyph width of Verdana, in em
constexpr double kTextInset = 3.0;
constexpr double kTitleScale = 1.4;

/// A box that is drawn: its node and where its samples start on the x axis (in samples).
struct Box {
    NodeId id;
    std::uint64_t start;
};

struct Geometry {
    double width;
    double header;
    double footer;
    double height;
    double scale; ///< px per sample
    std::uint32_t max_depth;
};

void validate(const Options& o) {
    if (o.width < 100 || o.frame_height < 4 || o.font_size < 4 || !(o.min_width >= 0)) {
        throw std::invalid_argument(
            fmt::format("flamegraph options out of range: width {} (>= 100), frame height {} "
                        "(>= 4), font size {} (>= 4), min width {} (>= 0)",
                        o.width, o.frame_height, o.font_size, o.min_width));
    }
}

// Pre-order, left to right, without recursion: stacks from a remote process may be thousands
// of frames deep. Boxes narrower than the cut-off are left out with everything above them.
std::vector<Box> layout(const Tree& tree, double scale, double min_width) {
    std::vector<Box> boxes;
    std::vector<Box> pending{Box{Tree::kRoot, 0}};
    while (!pending.empty()) {
        const Box box = pending.back();
        pending.pop_back();
        const Node& node = tree.node(box.id);
        if (box.id != Tree::kRoot && static_cast<double>(node.total.samples) * scale < min_width) {
            continue;
        }
        boxes.push_back(box);
        const std::vector<NodeId> children = tree.sorted_children(box.id);
        std::vector<Box> placed;
        placed.reserve(children.size());
        std::uint64_t start = box.start;
        for (NodeId child : children) {
            placed.push_back(Box{child, start});
            start += tree.node(child).total.samples;
        }
        pending.insert(pending.end(), placed.rbegin(), placed.rend());
    }
    return boxes;
}

// `label` is already sanitized: the newlines added here must survive.
std::string
tooltip(const Tree& tree, const Node& node, const std::string& label, const Options& o) {
    const auto total = static_cast<double>(tree.total().samples);
    std::string text = fmt::format("{}\n{}: {} ({})", label, sanitize_utf8(o.count_name),
                                   format_count(node.total.samples),
                                   format_percent(static_cast<double>(node.total.samples), total));
    switch (o.cost) {
    case CostMetric::Instructions:
        text += fmt::format("\ninstructions: {}", format_si(node.total.instructions));
        break;
    case CostMetric::CpuTime:
        text += fmt::format("\nCPU time: {}", format_duration_ns(node.total.cpu_ns));
        break;
    case CostMetric::None:
        break;
    }
    if (o.show_rss) {
        text += fmt::format("\nRSS delta: {}", format_bytes_signed(node.total.rss_delta));
    }
    return text;
}

std::string fitted_label(const std::string& label, double box_width, int font_size) {
    const double chars = std::floor((box_width - 2 * kTextInset) / (font_size * kFontWidth));
    if (chars < 3) {
        return {};
    }
    return fit_to_width(label, static_cast<std::size_t>(chars), "..");
}

void write_header(const Options& o, const Geometry& g, std::uint64_t total, std::ostream& out) {
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n";
    out << fmt::format("<svg version=\"1.1\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
                       "xmlns=\"http://www.w3.org/2000/svg\" onload=\"cpuprofInit()\">\n",
                       g.width, g.height);
    out << "<defs><linearGradient id=\"background\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">"
           "<stop stop-color=\"#eeeeee\" offset=\"5%\"/><stop stop-color=\"#eeeeb0\" "
           "offset=\"95%\"/></linearGradient></defs>\n";
    out << "<style type=\"text/css\"><![CDATA[" << kSvgStyle
        << fmt::format("text {{ font-size: {}px; }}\n#title {{ font-size: {:.0f}px; }}\n",
                       o.font_size, o.font_size * kTitleScale)
        << "]]></style>\n";
    out << "<script type=\"text/ecmascript\"><![CDATA[" << kSvgScript << "]]></script>\n";
    out << fmt::format("<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" "
                       "fill=\"url(#background)\"/>\n",
                       g.width, g.height);
    const double middle = g.width / 2;
    // The title line also holds the buttons at both ends; the subtitle has the whole width.
    const auto columns = [&](double px, double font_size) {
        return static_cast<std::size_t>(std::max(0.0, px / (font_size * kFontWidth)));
    };
    out << fmt::format("<text id=\"title\" x=\"{}\" y=\"24\" text-anchor=\"middle\">{}</text>\n",
                       middle,
                       xml_escape(fit_to_width(sanitize_utf8(o.title),
                                               columns(g.width - 240, o.font_size * kTitleScale))));
    if (!o.subtitle.empty()) {
        out << fmt::format(
            "<text id=\"subtitle\" x=\"{}\" y=\"44\" text-anchor=\"middle\">{}</text>\n", middle,
            xml_escape(
                fit_to_width(sanitize_utf8(o.subtitle), columns(g.width - 2 * kPad, o.font_size))));
    }
    out << fmt::format("<text id=\"unzoom\" class=\"button hide\" x=\"{}\" y=\"24\">Reset zoom"
                       "</text>\n",
                       kPad);
    out << fmt::format("<text id=\"search\" class=\"button\" x=\"{}\" y=\"24\" "
                       "text-anchor=\"end\">Search</text>\n",
                       g.width - kPad);
    out << fmt::format("<text id=\"details\" x=\"{}\" y=\"{}\"> </text>\n", kPad, g.height - 10);
    out << fmt::format("<text id=\"matched\" class=\"button\" x=\"{}\" y=\"{}\" "
                       "text-anchor=\"end\"> </text>\n",
                       g.width - kPad, g.height - 10);
    out << fmt::format("<g id=\"frames\" data-total=\"{}\" data-width=\"{}\" data-pad=\"{}\" "
                       "data-font-size=\"{}\" data-font-width=\"{}\" data-unit=\"{}\">\n",
                       total, g.width, kPad, o.font_size, kFontWidth,
                       xml_escape(sanitize_utf8(o.count_name)));
}

} // namespace

void render_svg(const Tree& tree, const Options& options, std::ostream& out) {
    validate(options);
    const std::uint64_t total = tree.total().samples;
    Geometry g{};
    g.width = options.width;
    g.header = options.subtitle.empty() ? 40 : 60;
    g.footer = 30;
    g.scale = total > 0 ? (g.width - 2 * kPad) / static_cast<double>(total) : 0.0;

    const std::vector<Box> boxes = layout(tree, g.scale, options.min_width);
    g.max_depth = 0;
    for (const Box& box : boxes) {
        g.max_depth = std::max(g.max_depth, tree.node(box.id).depth);
    }
    g.height = g.header + (g.max_depth + 1.0) * options.frame_height + g.footer;

    write_header(options, g, total, out);
    const double box_height = options.frame_height - 1;
    for (const Box& box : boxes) {
        const Node& node = tree.node(box.id);
        const double x = kPad + static_cast<double>(box.start) * g.scale;
        // The root spans the whole width even when there are no samples to size it by.
        const double w =
            total > 0 ? static_cast<double>(node.total.samples) * g.scale : g.width - 2 * kPad;
        const double y = g.height - g.footer - (node.depth + 1.0) * options.frame_height;
        const std::string label = sanitize_utf8(tree.label(box.id));
        out << fmt::format("<g data-s=\"{}\" data-n=\"{}\" data-d=\"{}\"><title>{}</title>",
                           box.start, node.total.samples, node.depth,
                           xml_escape(tooltip(tree, node, label, options)));
        out << fmt::format("<rect x=\"{:.2f}\" y=\"{}\" width=\"{:.2f}\" height=\"{}\" "
                           "fill=\"{}\" rx=\"2\" ry=\"2\"/>",
                           x, y, w, box_height, css_colour(box_colour(label, node.kind)));
        out << fmt::format("<text x=\"{:.2f}\" y=\"{}\">{}</text></g>\n", x + kTextInset,
                           y + options.frame_height - 4.5,
                           xml_escape(fitted_label(label, w, options.font_size)));
    }
    out << "</g>\n</svg>\n";
}

} // namespace cpuprof::flamegraph
