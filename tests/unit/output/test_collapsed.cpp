#include "sample_profile.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <vector>

using namespace cpuprof;
using namespace cpuprof::test;

namespace {

std::map<std::string, std::uint64_t> parse_collapsed(const std::string& text) {
    static const std::regex kLine{"^(.*) (\\d+)$"};
    std::map<std::string, std::uint64_t> stacks;
    std::istringstream in(text);
    std::string line;
    std::string previous;
    while (std::getline(in, line)) {
        std::smatch m;
        INFO(line);
        REQUIRE(std::regex_match(line, m, kLine));
        CHECK(previous < line); // sorted, each stack once
        previous = line;
        stacks[m[1]] = std::stoull(m[2]);
    }
    return stacks;
}

std::uint64_t sum(const std::map<std::string, std::uint64_t>& stacks) {
    std::uint64_t total = 0;
    for (const auto& [stack, count] : stacks) {
        total += count;
    }
    return total;
}

} // namespace

TEST_CASE("collapsed output merges threads and writes root first", "[output]") {
    const auto text = written(sample_profile(), output::Format::Collapsed);
    REQUIRE(text.back() == '\n');
    const auto stacks = parse_collapsed(text);
    CHECK(sum(stacks) == 100);
    const std::string m = kMainLabel + ";";
    const std::map<std::string, std::uint64_t> expected{
        {m + kKoreanLabel, 75},
        {m + kKoreanLabel + ";" + kMainRecursiveLabel, 5},
        {m + kFireLabel, 3},
        {m + kFireLabel + ";" + kMarkupLabel, 10},
        {m + kSemicolonLabel + ";" + kNativeLabel, 7},
    };
    CHECK(stacks == expected);
}

TEST_CASE("collapsed output with --threads starts every stack at its thread", "[output]") {
    const auto stacks =
        parse_collapsed(written(sample_profile({.per_thread = true}), output::Format::Collapsed));
    CHECK(sum(stacks) == 100);
    CHECK(stacks.size() == 6);
    CHECK(stacks.at("thread 100 \"MainThread\";" + kMainLabel + ";" + kKoreanLabel) == 50);
    CHECK(stacks.at("thread 101 \"worker\";" + kMainLabel + ";" + kKoreanLabel) == 25);
    for (const auto& [stack, count] : stacks) {
        CHECK(stack.starts_with("thread 10"));
    }
}

TEST_CASE("collapsed output keeps samples of empty stacks under a marker", "[output]") {
    profile::Profile p;
    const auto f = p.frames.intern({"work", "w.py", 1, profile::FrameKind::Python});
    const std::vector<profile::FrameId> none;
    const std::vector<profile::FrameId> one{f};
    p.stacks.add(p.stacks.intern(1, none), {.samples = 4});
    p.stacks.add(p.stacks.intern(1, one), {.samples = 6});
    p.stacks.intern(2, one); // interned but never sampled: no line
    const auto stacks = parse_collapsed(written(p, output::Format::Collapsed));
    const std::map<std::string, std::uint64_t> expected{{"<no frames>", 4}, {"work (w.py:1)", 6}};
    CHECK(stacks == expected);
}

TEST_CASE("collapsed output matches the checked-in sample flamegraph.pl reads", "[output]") {
    std::ifstream in(CPUPROF_OUTPUT_TEST_DATA "/sample.collapsed", std::ios::binary);
    REQUIRE(in.good());
    std::stringstream golden;
    golden << in.rdbuf();
    CHECK(written(sample_profile(), output::Format::Collapsed) == golden.str());
}
