#include "cpuprof/flamegraph/collapsed_reader.hpp"
#include "cpuprof/flamegraph/palette.hpp"
#include "cpuprof/flamegraph/render.hpp"
#include "cpuprof/flamegraph/text.hpp"
#include "cpuprof/flamegraph/tree.hpp"
#include "cpuprof/flamegraph/units.hpp"
#include "xml_check.hpp"

#include <catch2/catch.hpp>
#include <sstream>
#include <stdexcept>
#include <vector>

using namespace cpuprof::flamegraph;
using cpuprof::test::xml_wellformedness_error;

TEST_CASE("tree merges common prefixes and sums metrics", "[flamegraph]") {
    Tree tree;
    const std::vector<StackFrame> ab{{"a", NodeKind::Python}, {"b", NodeKind::Python}};
    const std::vector<StackFrame> ac{{"a", NodeKind::Python}, {"c", NodeKind::Native}};
    tree.add(ab, {.samples = 3, .rss_delta = -10, .cpu_ns = 30});
    tree.add(ac, {.samples = 2, .rss_delta = 4});
    tree.add(ab, {.samples = 1});
    tree.add({}, {.samples = 4}); // charges the root alone
    CHECK(tree.size() == 4);
    CHECK(tree.total().samples == 10);
    CHECK(tree.label(Tree::kRoot) == "all");
    const auto top = tree.sorted_children(Tree::kRoot);
    REQUIRE(top.size() == 1);
    const Node& a = tree.node(top[0]);
    CHECK(tree.label(top[0]) == "a");
    CHECK(a.depth == 1);
    CHECK(a.parent == Tree::kRoot);
    CHECK(a.total.samples == 6);
    CHECK(a.total.rss_delta == -6);
    CHECK(a.total.cpu_ns == 30);
    CHECK(tree.self_samples(Tree::kRoot) == 4);
    CHECK(tree.self_samples(top[0]) == 0);
    const auto children = tree.sorted_children(top[0]);
    REQUIRE(children.size() == 2);
    CHECK(tree.label(children[0]) == "b");
    CHECK(tree.node(children[0]).total.samples == 4);
    CHECK(tree.node(children[0]).depth == 2);
    CHECK(tree.label(children[1]) == "c");
    CHECK(tree.node(children[1]).kind == NodeKind::Native);
    CHECK(tree.sorted_children(children[0]).empty());
}

TEST_CASE("collapsed files are read the way flamegraph.pl reads them", "[flamegraph]") {
    std::istringstream in("main (a.py:1);work (a.py:5) 7\n"
                          "main (a.py:1);deflate (libz.so.1) 3\r\n"
                          "\n"
                          "thread 1 \"x\";<no frames> 2\n"
                          "bad line\n"
                          "main (a.py:1) -4\n"
                          "main (a.py:1) 1.5\n");
    const CollapsedInput input = read_collapsed(in);
    CHECK(input.lines == 3);
    CHECK(input.ignored == 3);
    CHECK(input.tree.total().samples == 12);
    CHECK(guess_kind("work (a.py:5)") == NodeKind::Python);
    CHECK(guess_kind("parse (lexer.pyx:80)") == NodeKind::Python);
    CHECK(guess_kind("deflate (libz.so.1)") == NodeKind::Native);
    CHECK(guess_kind("thread 1 \"x\"") == NodeKind::Other);
    CHECK(guess_kind("<unmerged native stack>") == NodeKind::Other);
    std::ostringstream svg;
    render_svg(input.tree, Options{.title = "from a file"}, svg);
    CHECK(xml_wellformedness_error(svg.str()).empty());
    CHECK_THAT(svg.str(), Catch::Contains("&lt;no frames&gt;"));
}

TEST_CASE("render_svg rejects nonsense options and draws an empty tree", "[flamegraph]") {
    std::ostringstream out;
    CHECK_THROWS_AS(render_svg(Tree{}, Options{.width = 10}, out), std::invalid_argument);
    CHECK_THROWS_AS(render_svg(Tree{}, Options{.min_width = -1}, out), std::invalid_argument);
    std::ostringstream empty;
    render_svg(Tree{}, Options{.title = "<none> & \"nothing\""}, empty);
    CHECK(xml_wellformedness_error(empty.str()).empty());
    CHECK_THAT(empty.str(), Catch::Contains("&lt;none&gt; &amp; &quot;nothing&quot;"));
    CHECK_THAT(empty.str(), Catch::Contains("<title>all\nsamples: 0 (0.0%)</title>"));
}

TEST_CASE("frame text is cut to fit its box without splitting characters", "[flamegraph]") {
    Tree tree;
    const std::string korean = "가나다라마바사아자차카타파하가나다라마바사아자차카타파하";
    const std::vector<StackFrame> wide{{korean, NodeKind::Python}};
    const std::vector<StackFrame> narrow{{"x", NodeKind::Python}};
    tree.add(wide, {.samples = 1});
    tree.add(narrow, {.samples = 9});
    std::ostringstream out;
    render_svg(tree, Options{.width = 400}, out);
    const std::string svg = out.str();
    REQUIRE(xml_wellformedness_error(svg).empty());
    // 1/10 of 380 px holds 38 px: about 5 columns at 12 px Verdana, so "가.." .
    CHECK_THAT(svg, Catch::Contains(">가..</text>"));
}

TEST_CASE("utf-8 text helpers sanitize, measure and cut", "[flamegraph]") {
    CHECK(sanitize_utf8("plain") == "plain");
    CHECK(sanitize_utf8("함수🔥") == "함수🔥");
    CHECK(sanitize_utf8("a\xff"
                        "b") == "a\xEF\xBF\xBD"
                                "b");
    CHECK(sanitize_utf8("\xC0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD");                 // overlong NUL
    CHECK(sanitize_utf8("\xED\xA0\x80") == "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"); // surrogate
    CHECK(sanitize_utf8("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD");                 // truncated
    CHECK(sanitize_utf8(std::string("a\0b\x1b\n\tc", 7)) == "a\xEF\xBF\xBD"
                                                            "b\xEF\xBF\xBD\xEF\xBF\xBD\tc");
    CHECK(display_width("abc") == 3);
    CHECK(display_width("함수") == 4);
    CHECK(display_width("🔥") == 2);
    CHECK(display_width("e\xCC\x81") == 1); // e + combining acute
    CHECK(fit_to_width("abcdef", 6) == "abcdef");
    CHECK(fit_to_width("abcdefg", 6) == "abcd..");
    CHECK(fit_to_width("함수함수", 5) == "함..");
    CHECK(fit_to_width("함수함수", 6, "…") == "함수…");
    CHECK(fit_to_width("abc", 1) == "");
    CHECK(xml_escape("<a href='x'>&\"</a>") == "&lt;a href=&apos;x&apos;&gt;&amp;&quot;&lt;/a&gt;");
}

TEST_CASE("units are human and signed", "[flamegraph]") {
    CHECK(format_count(0) == "0");
    CHECK(format_count(999) == "999");
    CHECK(format_count(1'234'567) == "1,234,567");
    CHECK(format_si(999) == "999");
    CHECK(format_si(1'234'567) == "1.23M");
    CHECK(format_si(999'999'999) == "1.00G");
    CHECK(format_bytes_signed(0) == "0 B");
    CHECK(format_bytes_signed(100) == "+100 B");
    CHECK(format_bytes_signed(-1536 * 1024) == "-1.5 MiB");
    CHECK(format_bytes_signed(786432) == "+768.0 KiB");
    CHECK(format_bytes_signed(INT64_MIN) == "-8.0 EiB");
    CHECK(format_duration_ns(812) == "812 ns");
    CHECK(format_duration_ns(3'420'000) == "3.42 ms");
    CHECK(format_duration_ns(1'230'000'000) == "1.23 s");
    CHECK(format_duration_ns(123'000'000'000) == "2 min 3 s");
    CHECK(format_percent(1, 3) == "33.3%");
    CHECK(format_percent(5, 0) == "0.0%");
}

TEST_CASE("palette is deterministic per function and per kind", "[flamegraph]") {
    CHECK(box_colour("f (a.py:1)", NodeKind::Python) == box_colour("f (b.py:9)", NodeKind::Python));
    CHECK(box_colour("f (a.py:1)", NodeKind::Python) != box_colour("g (a.py:1)", NodeKind::Python));
    for (const char* name : {"a", "b", "compute", "함수", "🔥", "x (y)"}) {
        const Rgb warm = box_colour(name, NodeKind::Python);
        CHECK(warm.r >= 205);
        CHECK(warm.b < 55);
        const Rgb cool = box_colour(name, NodeKind::Native);
        CHECK(cool.b >= 200);
        CHECK(cool.r < 130);
        const Rgb grey = box_colour(name, NodeKind::Other);
        CHECK(grey.r == grey.g);
        CHECK(grey.g == grey.b);
    }
    CHECK(css_colour({1, 2, 3}) == "rgb(1,2,3)");
}
