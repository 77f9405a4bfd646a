#include "cpuprof/flamegraph/render.hpp"
#include "cpuprof/flamegraph/tree.hpp"
#include "cpuprof/flamegraph/units.hpp"
#include "cpuprof/output/merged_stacks.hpp"
#include "output/writers.hpp"

#include <fmt/format.h>
#include <string>
#include <vector>

namespace cpuprof::output {

namespace {

flamegraph::NodeKind node_kind(profile::FrameKind kind) {
    switch (kind) {
    case profile::FrameKind::Python:
        return flamegraph::NodeKind::Python;
    case profile::FrameKind::Native:
        return flamegraph::NodeKind::Native;
    case profile::FrameKind::Thread:
    case profile::FrameKind::Marker:
    case profile::FrameKind::Process:
        break;
    }
    return flamegraph::NodeKind::Other;
}

flamegraph::Tree build_tree(const MergedStacks& merged) {
    std::vector<std::string> labels(merged.frames.size());
    for (profile::FrameId id = 0; id < labels.size(); ++id) {
        labels[id] = merged.frames[id].label();
    }
    flamegraph::Tree tree;
    std::vector<flamegraph::StackFrame> frames;
    for (profile::StackId id = 0; id < merged.stacks.size(); ++id) {
        frames.clear();
        for (profile::FrameId frame : merged.stacks.frames(id)) {
            frames.push_back({labels[frame], node_kind(merged.frames[frame].kind)});
        }
        const profile::StackMetrics& m = merged.stacks.metrics(id);
        tree.add(frames, {.samples = m.samples,
                          .instructions = m.instructions,
                          .rss_delta = m.rss_delta,
                          .cpu_ns = m.cpu_ns});
    }
    return tree;
}

std::string subtitle(const profile::Profile& profile, std::uint64_t samples) {
    const profile::TargetInfo& t = profile.target;
    std::string text = fmt::format("pid {}", t.pid);
    if (!t.python_version.empty()) {
        text += fmt::format(" · Python {}", t.python_version);
    }
    if (!t.command_line.empty()) {
        text += fmt::format(" · {}", fmt::join(t.command_line, " "));
    } else if (!t.executable.empty()) {
        text += fmt::format(" · {}", t.executable);
    }
    text += fmt::format(" · {} samples in {:.1f} s at {:g} Hz", flamegraph::format_count(samples),
                        profile.duration_s, profile.rate_hz);
    text += profile.counter == profile::CounterKind::HardwareInstructions
                ? " · instructions from the hardware counter"
                : " · CPU time per stack (no instruction counter)";
    return text;
}

} // namespace

void write_svg(const profile::Profile& profile, std::ostream& out) {
    const flamegraph::Tree tree = build_tree(merge_stacks(profile));
    flamegraph::Options options;
    options.title = profile.per_thread ? "cpuprof flamegraph (per thread)" : "cpuprof flamegraph";
    options.subtitle = subtitle(profile, tree.total().samples);
    options.cost = profile.counter == profile::CounterKind::HardwareInstructions
                       ? flamegraph::CostMetric::Instructions
                       : flamegraph::CostMetric::CpuTime;
    options.show_rss = true;
    flamegraph::render_svg(tree, options, out);
}

} // namespace cpuprof::output
