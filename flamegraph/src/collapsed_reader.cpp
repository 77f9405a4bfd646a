#include "cpuprof/flamegraph/collapsed_reader.hpp"

#include <charconv>
#include <string>
#include <vector>

namespace cpuprof::flamegraph {

NodeKind guess_kind(std::string_view label) {
    if (label.starts_with("thread ") || label.starts_with('<') || label == "-") {
        return NodeKind::Other;
    }
    const auto open = label.rfind(" (");
    if (open != std::string_view::npos && label.ends_with(')')) {
        const std::string_view where = label.substr(open + 2, label.size() - open - 3);
        // Matches .py and Cython's .pyx.
        if (where.find(".py") != std::string_view::npos) {
            return NodeKind::Python;
        }
    }
    return NodeKind::Native;
}

CollapsedInput read_collapsed(std::istream& in) {
    CollapsedInput input;
    std::string line;
    std::vector<StackFrame> frames;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.empty()) {
            continue;
        }
        const auto space = line.find_last_of(" \t");
        std::uint64_t count = 0;
        const char* first = line.data() + (space == std::string::npos ? 0 : space + 1);
        const char* last = line.data() + line.size();
        const auto [end, ec] = std::from_chars(first, last, count);
        if (space == std::string::npos || ec != std::errc{} || end != last) {
            ++input.ignored;
            continue;
        }
        const std::string_view stack = std::string_view(line).substr(0, space);
        frames.clear();
        std::size_t start = 0;
        while (start <= stack.size() && !stack.empty()) {
            const auto semicolon = stack.find(';', start);
            const auto stop = semicolon == std::string_view::npos ? stack.size() : semicolon;
            const std::string_view label = stack.substr(start, stop - start);
            frames.push_back(StackFrame{label, guess_kind(label)});
            start = stop + 1;
        }
        input.tree.add(frames, NodeMetrics{.samples = count});
        ++input.lines;
    }
    return input;
}

} // namespace cpuprof::flamegraph
