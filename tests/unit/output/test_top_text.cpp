#include "cpuprof/output/top_text.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace cpuprof;
using namespace cpuprof::output;
using profile::FrameId;
using profile::FrameKind;

namespace {

profile::Profile busy_profile(profile::CounterKind counter) {
    profile::Profile p;
    p.rate_hz = 1000;
    p.target.pid = 777;
    p.target.python_version = "3.11.7";
    p.target.command_line = {"python3", "top_busy.py"};
    p.counter = counter;
    const FrameId main = p.frames.intern({"main", "/t/top_busy.py", 30, FrameKind::Python});
    const FrameId heavy = p.frames.intern({"busy_heavy", "/t/top_busy.py", 12, FrameKind::Python});
    const auto id = p.stacks.intern(777, std::vector<FrameId>{main, heavy});
    p.stacks.add(id, {.samples = 2500, .instructions = 4'560'000'000, .cpu_ns = 2'400'000'000});
    p.stats.thread_samples = 2500;
    p.stats.gil_samples = 2500;
    p.threads[777] = {777, "python3", 2500};
    return p;
}

std::vector<std::string> titles(const std::vector<TopColumn>& columns) {
    return top_titles(columns);
}

} // namespace

TEST_CASE("top formats seconds and counts compactly", "[output][top]") {
    CHECK(format_seconds(0) == "0.00s");
    CHECK(format_seconds(2.5) == "2.50s");
    CHECK(format_seconds(12.34) == "12.3s");
    CHECK(format_seconds(340.4) == "340s");
    CHECK(format_count(950) == "950");
    CHECK(format_count(1234) == "1.23K");
    CHECK(format_count(45'600'000) == "45.6M");
    CHECK(format_count(999'999) == "1.00M");
    CHECK(format_count(7'890'000'000) == "7.89G");
}

TEST_CASE("top cuts text by characters, not bytes", "[output][top]") {
    CHECK(fit_width("abcdef", 3) == "abc");
    CHECK(fit_width("ab", 5) == "ab");
    CHECK(fit_width("h\xC3\xA9llo", 2) == "h\xC3\xA9"); // é is one column, two bytes
    CHECK(fit_width("", 0).empty());
}

TEST_CASE("top's columns name the counter the machine has", "[output][top]") {
    auto p = busy_profile(profile::CounterKind::TaskClock);
    TopModel model(false);
    model.update(p, {});
    auto columns = top_columns(model, 0);
    CHECK(titles(columns) == std::vector<std::string>{"%Own", "%Total", "OwnTime", "TotalTime",
                                                      "OwnCPU", "TotalCPU",
                                                      "Function (file:hottest line)"});
    auto cells = top_cells(model, *model.rows().front(), columns);
    CHECK(cells == std::vector<std::string>{"100.0%", "100.0%", "2.50s", "2.50s", "2.40s", "2.40s",
                                            "busy_heavy (top_busy.py:12)"});

    auto hw = busy_profile(profile::CounterKind::HardwareInstructions);
    TopModel hw_model(false);
    hw_model.set_per_thread(true);
    hw_model.set_lines(true);
    hw_model.update(hw, {});
    columns = top_columns(hw_model, 0);
    CHECK(titles(columns) == std::vector<std::string>{"%Own", "%Total", "OwnTime", "TotalTime",
                                                      "OwnInstr", "TotalInstr", "Thread",
                                                      "Function (file:line)"});
    cells = top_cells(hw_model, *hw_model.rows().front(), columns);
    CHECK(cells[4] == "4.56G");
    CHECK(cells[6] == "777 python3");
}

TEST_CASE("top drops the counter columns when the function would not fit", "[output][top]") {
    auto p = busy_profile(profile::CounterKind::TaskClock);
    TopModel model(false);
    model.set_per_thread(true);
    model.update(p, {});
    CHECK(top_columns(model, 200).size() == 8);
    const auto narrow = top_columns(model, 80);
    CHECK(titles(narrow) == std::vector<std::string>{"%Own", "%Total", "OwnTime", "TotalTime",
                                                     "Thread", "Function (file:hottest line)"});
    CHECK(80 - top_column_offset(narrow, narrow.size() - 1) >= kTopMinFunctionWidth);
    CHECK(top_cells(model, *model.rows().front(), narrow) ==
          std::vector<std::string>{"100.0%", "100.0%", "2.50s", "2.50s", "777 python3",
                                   "busy_heavy (top_busy.py:12)"});
}

TEST_CASE("top lays out a row in the columns and cuts it at the screen's width", "[output][top]") {
    auto p = busy_profile(profile::CounterKind::TaskClock);
    TopModel model(false);
    model.update(p, {});
    const auto columns = top_columns(model, 0);
    const std::string title = top_line(columns, titles(columns), 0);
    CHECK(title == "  %Own  %Total  OwnTime  TotalTime    OwnCPU  TotalCPU  "
                   "Function (file:hottest line)");
    const auto cells = top_cells(model, *model.rows().front(), columns);
    const std::string row = top_line(columns, cells, 0);
    CHECK(row == "100.0%  100.0%    2.50s      2.50s     2.40s     2.40s  "
                 "busy_heavy (top_busy.py:12)");
    // The function column starts where the offset says, under its title.
    const auto x = top_column_offset(columns, columns.size() - 1);
    CHECK(title.substr(x) == "Function (file:hottest line)");
    CHECK(row.substr(x) == "busy_heavy (top_busy.py:12)");
    CHECK(top_line(columns, cells, 60).size() == 60);
}

TEST_CASE("top's header names the target and the sampler's figures", "[output][top]") {
    auto p = busy_profile(profile::CounterKind::TaskClock);
    p.stats.idle_skipped = 2500;
    TopModel model(false);
    model.update(p, {.ticks = 2490, .lost_ticks = 4, .elapsed_ns = 2'500'000'000});
    const auto lines = top_header_lines(model);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "cpuprof top  pid 777  python 3.11.7  python3 top_busy.py");
    CHECK(lines[1] == "Samples/s: 996 of 1000  Window: 2.5s  Threads: 1  GIL: 100.0%  Idle: 50.0%");
    CHECK(lines[2] == "Errors: 0  Lost: 4  Sort: %Own  View: functions, all threads  Native: n/a");

    model.set_sort(TopSort::TotalCounter);
    model.set_lines(true);
    model.set_per_thread(true);
    p.idle_included = true;
    model.update(p, {});
    const auto toggled = top_header_lines(model);
    CHECK(toggled[1].find("Idle: shown") != std::string::npos);
    CHECK(toggled[2] == "Errors: 0  Lost: 0  Sort: TotalCPU  View: lines, per thread  Native: n/a");

    // Paused: no rate to show, and the window stands still.
    model.update(p, {.ticks = 2490, .elapsed_ns = 2'500'000'000, .paused = true});
    CHECK(top_header_lines(model)[1].starts_with("Samples/s: paused  Window: 2.5s  Threads: 1"));
}
