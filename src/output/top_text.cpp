#include "cpuprof/output/top_text.hpp"

#include <array>
#include <fmt/format.h>

namespace cpuprof::output {

namespace {

bool has_instructions(const TopModel& model) {
    return model.header().counter == profile::CounterKind::HardwareInstructions;
}

std::string percent(std::uint64_t part, std::uint64_t whole) {
    const double value =
        whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
    return fmt::format("{:.1f}%", value);
}

std::string counter_cell(const TopModel& model, const profile::StackMetrics& m) {
    if (has_instructions(model)) {
        return format_count(m.instructions);
    }
    return format_seconds(static_cast<double>(m.cpu_ns) / 1e9);
}

std::string sort_title(const TopModel& model) {
    for (const auto& column : top_columns(model, 0)) {
        if (column.sort == model.view().sort) {
            return column.title;
        }
    }
    return {};
}

// Code points of UTF-8 text, counting each lead byte (continuation bytes are 10xxxxxx).
std::size_t text_width(std::string_view text) {
    std::size_t n = 0;
    for (const char c : text) {
        n += (static_cast<unsigned char>(c) & 0xC0U) != 0x80U ? 1 : 0;
    }
    return n;
}

} // namespace

std::string format_seconds(double seconds) {
    if (seconds < 10) {
        return fmt::format("{:.2f}s", seconds);
    }
    if (seconds < 100) {
        return fmt::format("{:.1f}s", seconds);
    }
    return fmt::format("{:.0f}s", seconds);
}

std::string format_count(std::uint64_t count) {
    static constexpr std::array<char, 5> kSuffixes{'K', 'M', 'G', 'T', 'P'};
    if (count < 1000) {
        return fmt::format("{}", count);
    }
    auto value = static_cast<double>(count);
    std::size_t i = 0;
    value /= 1000;
    while (value >= 999.5 && i + 1 < kSuffixes.size()) {
        value /= 1000;
        ++i;
    }
    const char* spec = value < 9.995 ? "{:.2f}{}" : value < 99.95 ? "{:.1f}{}" : "{:.0f}{}";
    return fmt::format(fmt::runtime(spec), value, kSuffixes[i]);
}

std::string fit_width(std::string_view text, std::size_t width) {
    std::size_t columns = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0U) != 0x80U) {
            if (columns == width) {
                return std::string(text.substr(0, i));
            }
            ++columns;
        }
    }
    return std::string(text);
}

std::vector<TopColumn> top_columns(const TopModel& model, std::size_t width) {
    const bool instructions = has_instructions(model);
    std::vector<TopColumn> columns{
        {TopField::OwnShare, "%Own", 6, false, TopSort::OwnShare},
        {TopField::TotalShare, "%Total", 6, false, TopSort::TotalShare},
        {TopField::OwnTime, "OwnTime", 7, false, TopSort::OwnTime},
        {TopField::TotalTime, "TotalTime", 9, false, TopSort::TotalTime},
        {TopField::OwnCounter, instructions ? "OwnInstr" : "OwnCPU", 8, false, TopSort::OwnCounter},
        {TopField::TotalCounter, instructions ? "TotalInstr" : "TotalCPU", instructions ? 10U : 8U,
         false, TopSort::TotalCounter},
    };
    if (model.view().per_thread) {
        columns.push_back({TopField::Thread, "Thread", 15, true, std::nullopt});
    }
    columns.push_back({TopField::Function,
                       model.view().lines ? "Function (file:line)" : "Function (file:hottest line)",
                       0, true, std::nullopt});
    const auto function_width = [&columns, width] {
        const std::size_t x = top_column_offset(columns, columns.size() - 1);
        return width > x ? width - x : 0;
    };
    if (width != 0 && function_width() < kTopMinFunctionWidth) {
        std::erase_if(columns, [](const TopColumn& c) {
            return c.field == TopField::OwnCounter || c.field == TopField::TotalCounter;
        });
    }
    return columns;
}

std::vector<std::string> top_titles(const std::vector<TopColumn>& columns) {
    std::vector<std::string> titles;
    titles.reserve(columns.size());
    for (const auto& column : columns) {
        titles.push_back(column.title);
    }
    return titles;
}

std::vector<std::string>
top_cells(const TopModel& model, const TopRow& row, const std::vector<TopColumn>& columns) {
    const double rate = model.header().rate_hz > 0 ? model.header().rate_hz : 1.0;
    std::vector<std::string> cells;
    cells.reserve(columns.size());
    for (const auto& column : columns) {
        switch (column.field) {
        case TopField::OwnShare:
            cells.push_back(percent(row.own_recent, model.recent_samples()));
            break;
        case TopField::TotalShare:
            cells.push_back(percent(row.total_recent, model.recent_samples()));
            break;
        case TopField::OwnTime:
            cells.push_back(format_seconds(static_cast<double>(row.own.samples) / rate));
            break;
        case TopField::TotalTime:
            cells.push_back(format_seconds(static_cast<double>(row.total.samples) / rate));
            break;
        case TopField::OwnCounter:
            cells.push_back(counter_cell(model, row.own));
            break;
        case TopField::TotalCounter:
            cells.push_back(counter_cell(model, row.total));
            break;
        case TopField::Thread:
            cells.push_back(row.thread_label);
            break;
        case TopField::Function:
            cells.push_back(row.label);
            break;
        }
    }
    return cells;
}

std::size_t top_column_offset(const std::vector<TopColumn>& columns, std::size_t index) {
    std::size_t x = 0;
    for (std::size_t i = 0; i < index && i < columns.size(); ++i) {
        x += columns[i].width + kTopColumnGap;
    }
    return x;
}

std::string top_line(const std::vector<TopColumn>& columns,
                     const std::vector<std::string>& cells,
                     std::size_t width) {
    std::string line;
    for (std::size_t i = 0; i < columns.size() && i < cells.size(); ++i) {
        const TopColumn& column = columns[i];
        const bool last = i + 1 == columns.size();
        std::string cell = last ? cells[i] : fit_width(cells[i], column.width);
        const std::size_t pad = last ? 0 : column.width - text_width(cell);
        if (column.left) {
            line += cell;
            line.append(pad, ' ');
        } else {
            line.append(pad, ' ');
            line += cell;
        }
        if (!last) {
            line.append(kTopColumnGap, ' ');
        }
    }
    if (width == 0) {
        return line;
    }
    return fit_width(line, width);
}

std::vector<std::string> top_header_lines(const TopModel& model) {
    const TopHeader& h = model.header();
    const TopView& view = model.view();
    // Three lines that fit 80 columns with everyday figures; the command is cut first.
    std::vector<std::string> lines;
    lines.push_back(
        fmt::format("cpuprof top  pid {}  python {}  {}", h.pid, h.python_version, h.command));
    const std::string idle =
        h.idle_included ? std::string("shown") : fmt::format("{:.1f}%", 100 * h.idle_share);
    const std::string rate = h.paused ? std::string("paused")
                                      : fmt::format("{:.0f} of {:.0f}", h.achieved_hz, h.rate_hz);
    lines.push_back(
        fmt::format("Samples/s: {}  Window: {:.1f}s  Threads: {}  GIL: {:.1f}%  Idle: {}", rate,
                    h.elapsed_s, h.threads, 100 * h.gil_share, idle));
    const char* native = !model.native_recorded() ? "n/a" : view.native ? "on" : "off";
    lines.push_back(fmt::format("Errors: {}  Lost: {}  Sort: {}  View: {}, {}  Native: {}",
                                h.errors, h.lost_ticks, sort_title(model),
                                view.lines ? "lines" : "functions",
                                view.per_thread ? "per thread" : "all threads", native));
    return lines;
}

std::string top_keys_line() {
    return "1-6 sort  t threads  l lines  i idle  n native  p pause  r reset  q quit   "
           "(%: last refresh; times: since start or reset)";
}

} // namespace cpuprof::output
