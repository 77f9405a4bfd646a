#include "cpuprof/flamegraph/text.hpp"
#include "sample_profile.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <regex>
#include <sstream>
#include <vector>

using namespace cpuprof;
using namespace cpuprof::test;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    return lines;
}

/// The lines after the one starting with `title`, up to the next blank line.
std::vector<std::string> section(const std::vector<std::string>& lines, const std::string& title) {
    auto it = std::find_if(lines.begin(), lines.end(),
                           [&](const std::string& l) { return l.starts_with(title); });
    REQUIRE(it != lines.end());
    std::vector<std::string> body;
    for (++it; it != lines.end() && !it->empty(); ++it) {
        body.push_back(*it);
    }
    return body;
}

struct FunctionRow {
    std::string own;
    std::string own_percent;
    std::string total;
    std::string total_percent;
};

std::map<std::string, FunctionRow> function_rows(const std::vector<std::string>& body) {
    static const std::regex kRow{R"(^\s+([\d,]+)\s+(\S+%)\s+([\d,]+)\s+(\S+%)\s{2}(.+)$)"};
    std::map<std::string, FunctionRow> rows;
    for (const auto& line : body) {
        std::smatch m;
        if (std::regex_match(line, m, kRow)) {
            rows[m[5]] = {m[1], m[2], m[3], m[4]};
        }
    }
    return rows;
}

} // namespace

TEST_CASE("summary header names the target, rates, counters and losses", "[output]") {
    const auto lines = lines_of(written(sample_profile(), output::Format::Summary));
    const auto text = written(sample_profile(), output::Format::Summary);
    CHECK_THAT(text, Catch::Contains("pid 4242, Python 3.12.1, python3 app.py --fast"));
    CHECK_THAT(text, Catch::Contains("2.00 s; rate 1000 Hz asked, 995.0 Hz achieved (1,990 of "
                                     "2,000 ticks)"));
    CHECK_THAT(text, Catch::Contains("100 in 5 unique stacks, 2 threads; the GIL was held in 40 of "
                                     "100 thread samples (40.0%)"));
    // The long counter note wraps under its value instead of being cut.
    CHECK_THAT(text, Catch::Contains("Counter     CPU time (schedstat); instructions unavailable:"
                                     "\n            perf_event_open(PERF_COUNT_HW_INSTRUCTIONS): "
                                     "ENOENT, no PMU in this VM\n"));
    CHECK_THAT(text, Catch::Contains("late 3, lost 1, failed 2, torn 1, idle skipped 11, "
                                     "unmerged 4"));
    CHECK_THAT(text, Catch::Contains("Options     native\n"));
    for (const auto& line : lines) {
        INFO(line);
        CHECK(flamegraph::display_width(line) <= 100);
    }
}

TEST_CASE("summary hot paths rank merged stacks with share, cost and RSS", "[output]") {
    const auto lines = lines_of(written(sample_profile(), output::Format::Summary));
    const auto body = section(lines, "Hot paths");
    REQUIRE(body.size() >= 2);
    CHECK_THAT(body[0], Catch::Contains("CPU time") && Catch::Contains("RSS delta"));
    static const std::regex kRow{
        R"(^\s+(\d+)\s+([\d,]+)\s+(\S+%)\s+(.+?)\s{2,}(\S+ \S+)\s{2}(.+)$)"};
    std::smatch m;
    REQUIRE(std::regex_match(body[1], m, kRow));
    CHECK(m[1] == "1");
    CHECK(m[2] == "75");
    CHECK(m[3] == "75.0%");
    CHECK(m[4] == "75.00 ms");
    CHECK(m[5] == "+768.0 KiB");
    CHECK(m[6] == kKoreanLabel);
    CHECK(body[2] == "         main → 함수");
    // Ranked by samples: 75, 10, 7, 5, 3.
    std::vector<std::string> counts;
    for (const auto& line : body) {
        if (std::regex_match(line, m, kRow)) {
            counts.push_back(m[2]);
        }
    }
    CHECK(counts == std::vector<std::string>{"75", "10", "7", "5", "3"});
    CHECK_THAT(written(sample_profile(), output::Format::Summary),
               Catch::Contains("10.0%") && Catch::Contains(kMarkupLabel));
}

TEST_CASE("summary top functions count own samples and each stack once for totals", "[output]") {
    const auto lines = lines_of(written(sample_profile(), output::Format::Summary));
    const auto own = function_rows(section(lines, "Top functions by own samples"));
    CHECK(own.at("함수 (app.py)").own == "75");
    CHECK(own.at("함수 (app.py)").own_percent == "75.0%");
    CHECK(own.at("함수 (app.py)").total_percent == "80.0%");
    CHECK(own.at("main (app.py)").own_percent == "5.0%");
    CHECK(own.at("main (app.py)").total == "100"); // recursion does not count twice
    CHECK(own.at("main (app.py)").total_percent == "100.0%");
    CHECK(own.at("deflate (libz.so.1)").own_percent == "7.0%");
    CHECK_FALSE(own.contains("a:b (semi.py)")); // never the leaf

    const auto total = function_rows(section(lines, "Top functions by total samples"));
    CHECK(total.at("a:b (semi.py)").total_percent == "7.0%");
    CHECK(total.at("🔥 (fire.py)").total_percent == "13.0%");
    CHECK(total.at("🔥 (fire.py)").own_percent == "3.0%");
    const auto body = section(lines, "Top functions by total samples");
    REQUIRE(body.size() >= 2);
    CHECK_THAT(body[1], Catch::EndsWith("main (app.py)")); // the largest total first
}

TEST_CASE("summary memory section lists the largest growth and release", "[output]") {
    const auto lines = lines_of(written(sample_profile(), output::Format::Summary));
    const auto body = section(lines, "Memory");
    const auto growth = std::find(body.begin(), body.end(), "  Largest growth");
    const auto release = std::find(body.begin(), body.end(), "  Largest release");
    REQUIRE(growth != body.end());
    REQUIRE(release != body.end());
    REQUIRE(growth + 1 < release);
    CHECK_THAT(*(growth + 1), Catch::StartsWith("  +768.0 KiB") && Catch::EndsWith(kKoreanLabel));
    CHECK(std::count_if(growth, release, [](const std::string& l) {
              return l.find("+4.0 KiB") != std::string::npos;
          }) == 1);
    REQUIRE(release + 1 != body.end());
    CHECK_THAT(*(release + 1), Catch::StartsWith("    -1.0 MiB") && Catch::EndsWith(kNativeLabel));
}

TEST_CASE("summary with --threads and a hardware counter", "[output]") {
    const auto text = written(sample_profile({.per_thread = true, .hardware_counter = true}),
                              output::Format::Summary);
    CHECK_THAT(text, Catch::Contains("instructions retired (hardware counter, per thread)"));
    CHECK_THAT(text, Catch::Contains("Instructions"));
    CHECK_THAT(text, Catch::Contains("100.00M")); // 50 samples x 2M instructions
    CHECK_THAT(text, Catch::Contains("100 in 6 unique stacks"));
    CHECK_THAT(text, Catch::Contains("thread 100 \"MainThread\" → main → 함수"));
    // A thread root is not a function.
    const auto own = function_rows(section(lines_of(text), "Top functions by total samples"));
    for (const auto& [name, row] : own) {
        CHECK_FALSE(name.starts_with("thread "));
    }
    CHECK(own.at("함수 (app.py)").total_percent == "80.0%");
}

TEST_CASE("summary abbreviates deep paths and survives hostile names", "[output]") {
    profile::Profile p;
    std::vector<profile::FrameId> deep;
    for (int i = 0; i < 60; ++i) {
        deep.push_back(p.frames.intern(
            {"function_" + std::to_string(i), "deep.py", i + 1, profile::FrameKind::Python}));
    }
    deep.push_back(p.frames.intern({"evil\x1b[2Jname", "x.py", 1, profile::FrameKind::Python}));
    p.stacks.add(p.stacks.intern(1, deep), {.samples = 3});
    const auto text = written(p, output::Format::Summary);
    CHECK(text.find('\x1b') == std::string::npos);
    const auto body = section(lines_of(text), "Hot paths");
    REQUIRE(body.size() == 3);
    CHECK_THAT(body[2], Catch::StartsWith("         function_0 → … → "));
    CHECK_THAT(body[2], Catch::EndsWith("function_59 → evil\xEF\xBF\xBD[2Jname"));
    CHECK(flamegraph::display_width(body[2]) <= 100);
}

TEST_CASE("summary of an empty profile says so", "[output]") {
    const auto text = written(profile::Profile{}, output::Format::Summary);
    CHECK_THAT(text, Catch::Contains("no samples were recorded"));
    CHECK_THAT(text, Catch::Contains("0 in 0 unique stacks, 0 threads"));
}

TEST_CASE("summary shortens long file paths from the left", "[output]") {
    profile::Profile p;
    const std::vector<profile::FrameId> stack{
        p.frames.intern({"Thread.run", "/root/.pyenv/versions/3.12.1/lib/python3.12/threading.py",
                         1010, profile::FrameKind::Python})};
    p.stacks.add(p.stacks.intern(1, stack), {.samples = 1});
    const auto lines = lines_of(written(p, output::Format::Summary));
    const auto hot = section(lines, "Hot paths");
    REQUIRE(hot.size() == 2);
    CHECK_THAT(hot[1], Catch::EndsWith("  Thread.run (…/lib/python3.12/threading.py:1010)"));
    const auto functions = function_rows(section(lines, "Top functions by own samples"));
    CHECK(functions.contains("Thread.run (…/versions/3.12.1/lib/python3.12/threading.py)"));
}
