#include "cpuprof/flamegraph/text.hpp"
#include "cpuprof/flamegraph/units.hpp"
#include "cpuprof/output/function_stats.hpp"
#include "cpuprof/output/merged_stacks.hpp"
#include "output/writers.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <set>
#include <string>
#include <vector>

namespace cpuprof::output {

namespace {

using flamegraph::display_width;
using flamegraph::fit_to_width;
using flamegraph::format_bytes_signed;
using flamegraph::format_count;
using flamegraph::format_percent;
using flamegraph::sanitize_utf8;

constexpr std::size_t kColumns = 100;
constexpr std::size_t kHotPaths = 20;
constexpr std::size_t kTopFunctions = 20;
constexpr std::size_t kMemoryStacks = 5;
constexpr std::size_t kPathIndent = 9;
constexpr std::size_t kFieldIndent = 12;
constexpr std::size_t kFunctionColumn = 41; ///< where the function table's names start
constexpr std::string_view kEllipsis = "…";
constexpr std::string_view kArrow = " → ";

// Remote strings are sanitized: a thread name must not be able to drive the terminal. A label
// too wide loses the leading directories of its file first, as the file name is what tells
// frames apart: "run (…/python3.12/threading.py:1010)".
std::string fitted_label(const profile::Frame& frame, std::size_t width) {
    const std::string full = sanitize_utf8(frame.label());
    if (display_width(full) <= width || frame.kind != profile::FrameKind::Python) {
        return fit_to_width(full, width, kEllipsis);
    }
    profile::Frame shorter = frame;
    for (auto slash = frame.file.find('/', 1); slash != std::string::npos;
         slash = frame.file.find('/', slash + 1)) {
        shorter.file = std::string(kEllipsis) + frame.file.substr(slash);
        std::string text = sanitize_utf8(shorter.label());
        if (display_width(text) <= width) {
            return text;
        }
    }
    return fit_to_width(sanitize_utf8(shorter.label()), width, kEllipsis);
}

class SummaryWriter {
  public:
    SummaryWriter(const profile::Profile& profile, std::ostream& out)
        : profile_(profile)
        , merged_(merge_stacks(profile))
        , total_(merged_.stacks.totals())
        , instructions_(profile.counter == profile::CounterKind::HardwareInstructions)
        , out_(out) {}

    void write() {
        header();
        hot_paths();
        top_functions();
        memory();
    }

  private:
    std::string cost(const profile::StackMetrics& m) const {
        return instructions_ ? flamegraph::format_si(m.instructions)
                             : flamegraph::format_duration_ns(m.cpu_ns);
    }

    std::string percent(std::uint64_t samples) const {
        return format_percent(static_cast<double>(samples), static_cast<double>(total_.samples));
    }

    void line(std::string_view text) { out_ << fit_to_width(text, kColumns, kEllipsis) << '\n'; }

    // Long values wrap at spaces onto lines indented under the value.
    void field(std::string_view name, std::string_view value) {
        std::string current = fmt::format("{:<{}}", name, kFieldIndent);
        std::size_t width = kFieldIndent;
        bool empty = true;
        for (std::size_t start = 0; start < value.size();) {
            auto stop = value.find(' ', start);
            stop = stop == std::string_view::npos ? value.size() : stop;
            const std::string_view word = value.substr(start, stop - start);
            const std::size_t word_width = display_width(word);
            if (!empty && width + 1 + word_width > kColumns) {
                line(current);
                current.assign(kFieldIndent, ' ');
                width = kFieldIndent;
                empty = true;
            }
            if (!empty) {
                current.push_back(' ');
                ++width;
            }
            current.append(word);
            width += word_width;
            empty = false;
            start = stop + 1;
        }
        line(current);
    }

    void header();
    void hot_paths();
    void top_functions();
    void function_table(std::string_view title, std::vector<FunctionStats> rows, bool by_own);
    void memory();
    void memory_list(std::string_view title, const std::vector<profile::StackId>& ids);
    void stack_row(std::string_view prefix, profile::StackId id);
    std::string path(profile::StackId id) const;

    const profile::Profile& profile_;
    const MergedStacks merged_;
    const profile::StackMetrics total_;
    const bool instructions_;
    std::ostream& out_;
};

void SummaryWriter::header() {
    const profile::TargetInfo& t = profile_.target;
    const profile::SamplingStats& s = profile_.stats;
    line("cpuprof summary");
    line(std::string(kColumns, '='));
    std::string target = fmt::format("pid {}", t.pid);
    if (!t.python_version.empty()) {
        target += fmt::format(", Python {}", t.python_version);
    }
    if (!t.command_line.empty()) {
        target +=
            fmt::format(", {}", sanitize_utf8(fmt::format("{}", fmt::join(t.command_line, " "))));
    } else if (!t.executable.empty()) {
        target += fmt::format(", {}", sanitize_utf8(t.executable));
    }
    field("Target", target);
    std::string achieved = "n/a";
    if (profile_.duration_s > 0) {
        achieved = fmt::format("{:.1f} Hz", static_cast<double>(s.ticks) / profile_.duration_s);
    }
    field("Duration", fmt::format("{:.2f} s; rate {:g} Hz asked, {} achieved ({} of {} ticks)",
                                  profile_.duration_s, profile_.rate_hz, achieved,
                                  format_count(s.ticks), format_count(s.expected_ticks)));
    std::set<Tid> seen;
    for (profile::StackId id = 0; id < profile_.stacks.size(); ++id) {
        seen.insert(profile_.stacks.thread(id));
    }
    const std::size_t threads = std::max(profile_.threads.size(), seen.size());
    std::string samples =
        fmt::format("{} in {} unique stacks, {} thread{}", format_count(total_.samples),
                    format_count(merged_.stacks.size()), threads, threads == 1 ? "" : "s");
    // Zero also when the GIL state could not be read: only a count says something.
    if (s.gil_samples > 0) {
        samples += fmt::format("; the GIL was held in {} of {} thread samples ({})",
                               format_count(s.gil_samples), format_count(s.thread_samples),
                               format_percent(static_cast<double>(s.gil_samples),
                                              static_cast<double>(s.thread_samples)));
    }
    field("Samples", samples);
    if (instructions_) {
        field("Counter", "instructions retired (hardware counter, per thread)");
    } else {
        std::string why = profile_.counter_note.empty() ? std::string("no hardware counter")
                                                        : sanitize_utf8(profile_.counter_note);
        field("Counter", fmt::format("CPU time ({}); instructions unavailable: {}",
                                     profile_.cpu_time_source, why));
    }
    field("Accounting",
          fmt::format("late {}, lost {}, failed {}, torn {}, idle skipped {}, unmerged {}",
                      format_count(s.late_ticks), format_count(s.lost_ticks),
                      format_count(s.failed), format_count(s.torn), format_count(s.idle_skipped),
                      format_count(s.unmerged)));
    std::vector<std::string_view> options;
    const std::pair<bool, std::string_view> flags[] = {{profile_.native, "native"},
                                                       {profile_.idle_included, "idle"},
                                                       {profile_.gil_only, "gil"},
                                                       {profile_.per_thread, "threads"},
                                                       {profile_.function_only, "function"}};
    for (const auto& [on, name] : flags) {
        if (on) {
            options.push_back(name);
        }
    }
    field("Options",
          options.empty() ? std::string("none") : fmt::format("{}", fmt::join(options, ", ")));
}

std::string SummaryWriter::path(profile::StackId id) const {
    const auto frames = merged_.stacks.frames(id);
    std::vector<std::string> names;
    names.reserve(frames.size());
    for (profile::FrameId f : frames) {
        names.push_back(sanitize_utf8(merged_.frames[f].name));
    }
    const std::size_t budget = kColumns - kPathIndent;
    std::string full = fmt::format("{}", fmt::join(names, kArrow));
    if (display_width(full) <= budget || names.size() < 3) {
        return fit_to_width(full, budget, kEllipsis);
    }
    // Keep the root, then as many frames next to the leaf as fit: the leaf end is what matters.
    const std::string root = names.front() + std::string(kArrow) + std::string(kEllipsis);
    std::string tail;
    for (std::size_t i = names.size() - 1; i > 0; --i) {
        std::string candidate = std::string(kArrow) + names[i] + tail;
        if (display_width(root) + display_width(candidate) > budget && !tail.empty()) {
            break;
        }
        tail = std::move(candidate);
    }
    return fit_to_width(root + tail, budget, kEllipsis);
}

void SummaryWriter::stack_row(std::string_view prefix, profile::StackId id) {
    const auto frames = merged_.stacks.frames(id);
    const std::size_t used = display_width(prefix) + 2;
    line(fmt::format(
        "{}  {}", prefix,
        fitted_label(merged_.frames[frames.back()], kColumns - std::min(used, kColumns))));
    if (frames.size() > 1) {
        line(std::string(kPathIndent, ' ') + path(id));
    }
}

void SummaryWriter::hot_paths() {
    std::vector<profile::StackId> ids(merged_.stacks.size());
    for (profile::StackId id = 0; id < ids.size(); ++id) {
        ids[id] = id;
    }
    std::ranges::stable_sort(ids, [this](profile::StackId a, profile::StackId b) {
        return merged_.stacks.metrics(a).samples > merged_.stacks.metrics(b).samples;
    });
    ids.resize(std::min(ids.size(), kHotPaths));
    line("");
    line(fmt::format("Hot paths (top {} of {} stacks by samples; the leaf, then the path from the "
                     "root)",
                     ids.size(), format_count(merged_.stacks.size())));
    line(fmt::format("{:>4} {:>11} {:>7} {:>12} {:>12}  {}", "#", "Samples", "%",
                     instructions_ ? "Instructions" : "CPU time", "RSS delta", "Leaf frame"));
    for (std::size_t rank = 0; rank < ids.size(); ++rank) {
        const profile::StackMetrics& m = merged_.stacks.metrics(ids[rank]);
        stack_row(fmt::format("{:>4} {:>11} {:>7} {:>12} {:>12}", rank + 1, format_count(m.samples),
                              percent(m.samples), cost(m), format_bytes_signed(m.rss_delta)),
                  ids[rank]);
    }
    if (ids.empty()) {
        line("     no samples were recorded");
    }
}

void SummaryWriter::function_table(std::string_view title,
                                   std::vector<FunctionStats> rows,
                                   bool by_own) {
    std::erase_if(rows,
                  [by_own](const FunctionStats& f) { return (by_own ? f.own : f.total) == 0; });
    std::ranges::stable_sort(rows, [by_own](const FunctionStats& a, const FunctionStats& b) {
        return by_own ? a.own > b.own : a.total > b.total;
    });
    rows.resize(std::min(rows.size(), kTopFunctions));
    line("");
    line(title);
    line(fmt::format("{:>11} {:>7} {:>11} {:>7}  {}", "Own", "Own %", "Total", "Total %",
                     "Function"));
    for (const FunctionStats& f : rows) {
        line(fmt::format("{:>11} {:>7} {:>11} {:>7}  {}", format_count(f.own), percent(f.own),
                         format_count(f.total), percent(f.total),
                         fitted_label(f.function, kColumns - kFunctionColumn)));
    }
}

void SummaryWriter::top_functions() {
    const std::vector<FunctionStats> stats = function_stats(merged_.frames, merged_.stacks);
    function_table("Top functions by own samples (the function itself was running)", stats, true);
    function_table("Top functions by total samples (the function was on the stack)", stats, false);
}

void SummaryWriter::memory_list(std::string_view title, const std::vector<profile::StackId>& ids) {
    line(title);
    if (ids.empty()) {
        line("     none");
        return;
    }
    for (profile::StackId id : ids) {
        const profile::StackMetrics& m = merged_.stacks.metrics(id);
        stack_row(fmt::format("{:>12} {:>11} {:>7}", format_bytes_signed(m.rss_delta),
                              format_count(m.samples), percent(m.samples)),
                  id);
    }
}

void SummaryWriter::memory() {
    std::vector<profile::StackId> growth;
    std::vector<profile::StackId> shrink;
    for (profile::StackId id = 0; id < merged_.stacks.size(); ++id) {
        const std::int64_t delta = merged_.stacks.metrics(id).rss_delta;
        if (delta > 0) {
            growth.push_back(id);
        } else if (delta < 0) {
            shrink.push_back(id);
        }
    }
    const auto delta = [this](profile::StackId id) { return merged_.stacks.metrics(id).rss_delta; };
    std::ranges::stable_sort(growth, [&](auto a, auto b) { return delta(a) > delta(b); });
    std::ranges::stable_sort(shrink, [&](auto a, auto b) { return delta(a) < delta(b); });
    growth.resize(std::min(growth.size(), kMemoryStacks));
    shrink.resize(std::min(shrink.size(), kMemoryStacks));
    line("");
    line(fmt::format("Memory (net RSS change {})", format_bytes_signed(total_.rss_delta)));
    line("  RSS is process-wide: each change is charged to the stacks sampled when it happened.");
    line(fmt::format("{:>12} {:>11} {:>7}  {}", "RSS delta", "Samples", "%", "Leaf frame"));
    memory_list("  Largest growth", growth);
    memory_list("  Largest release", shrink);
}

} // namespace

void write_summary(const profile::Profile& profile, std::ostream& out) {
    SummaryWriter(profile, out).write();
}

} // namespace cpuprof::output
