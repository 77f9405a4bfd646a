#include "cpuprof/output/merged_stacks.hpp"
#include "output/writers.hpp"

#include <map>
#include <string>
#include <vector>

namespace cpuprof::output {

void write_collapsed(const profile::Profile& profile, std::ostream& out) {
    const MergedStacks merged = merge_stacks(profile);
    std::vector<std::string> labels(merged.frames.size());
    for (profile::FrameId id = 0; id < labels.size(); ++id) {
        labels[id] = merged.frames[id].label();
    }
    // Keyed by the text: distinct frames can share a label, and flamegraph.pl expects one line
    // per stack, sorted.
    std::map<std::string, std::uint64_t> lines;
    std::string line;
    for (profile::StackId id = 0; id < merged.stacks.size(); ++id) {
        line.clear();
        bool first = true;
        for (profile::FrameId frame : merged.stacks.frames(id)) {
            if (!first) {
                line.push_back(';');
            }
            first = false;
            line += labels[frame];
        }
        lines[line] += merged.stacks.metrics(id).samples;
    }
    for (const auto& [stack, count] : lines) {
        out << stack << ' ' << count << '\n';
    }
}

} // namespace cpuprof::output
