#include "cpuprof/flamegraph/text.hpp"
#include "sample_profile.hpp"
#include "xml_check.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <unistd.h>

using namespace cpuprof;
using namespace cpuprof::test;

namespace {

struct Box {
    std::string title;
    double x;
    double y;
    double width;
    std::string fill;
};

// The renderer writes one box per line: <g ...><title>..</title><rect .../><text ...>..</text></g>
std::vector<Box> boxes_of(const std::string& svg) {
    static const std::regex kBox{
        R"re(<g data-s="\d+" data-n="\d+" data-d="\d+"><title>([^<]*)</title><rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="[\d.]+" fill="([^"]+)")re"};
    std::vector<Box> boxes;
    for (auto it = std::sregex_iterator(svg.begin(), svg.end(), kBox); it != std::sregex_iterator();
         ++it) {
        const auto& m = *it;
        boxes.push_back(
            {xml_unescape(m[1].str()), std::stod(m[2]), std::stod(m[3]), std::stod(m[4]), m[5]});
    }
    return boxes;
}

const Box& box_labelled(const std::vector<Box>& boxes, const std::string& label) {
    const auto it = std::find_if(boxes.begin(), boxes.end(), [&](const Box& b) {
        return b.title.substr(0, b.title.find('\n')) == label;
    });
    REQUIRE(it != boxes.end());
    return *it;
}

// xmllint is a second, independent opinion when it is installed (libxml2-utils).
void check_with_xmllint(const std::string& svg) {
    if (::access("/usr/bin/xmllint", X_OK) != 0) {
        WARN("xmllint not installed (apt-get install libxml2-utils): skipping its check");
        return;
    }
    char name[] = "/tmp/cpuprof-svg-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, svg.data(), svg.size()) == static_cast<ssize_t>(svg.size()));
    ::close(fd);
    const int status =
        std::system((std::string("/usr/bin/xmllint --noout ") + name + " 2>/dev/null").c_str());
    ::unlink(name);
    CHECK(status == 0);
}

} // namespace

TEST_CASE("svg output is well-formed and holds every frame label, escaped", "[output]") {
    const std::string svg = written(sample_profile(), output::Format::Svg);
    INFO(xml_wellformedness_error(svg));
    REQUIRE(xml_wellformedness_error(svg).empty());
    check_with_xmllint(svg);
    CHECK(svg.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\""));
    CHECK_THAT(svg, Catch::Contains("<script type=\"text/ecmascript\"><![CDATA["));
    CHECK_THAT(svg, Catch::Contains("function cpuprofInit()"));
    CHECK_THAT(svg, Catch::Contains(">Reset zoom</text>"));
    CHECK_THAT(svg, Catch::Contains(">Search</text>"));
    CHECK_THAT(svg, Catch::Contains("<text id=\"title\""));
    CHECK_THAT(svg, Catch::Contains("pid 4242 · Python 3.12.1 · python3 app.py --fast · 100 "
                                    "samples"));
    for (const std::string& label : {kMainLabel, kMainRecursiveLabel, kKoreanLabel, kFireLabel,
                                     kMarkupLabel, kSemicolonLabel, kNativeLabel}) {
        CAPTURE(label);
        CHECK_THAT(svg, Catch::Contains("<title>" + flamegraph::xml_escape(label) + "\n"));
    }
    CHECK_THAT(svg, Catch::Contains("render&lt;&amp;&gt;&quot;&apos; (tmpl.py:7)"));
    CHECK(svg.find("render<&>") == std::string::npos);
}

TEST_CASE("svg boxes are sized by samples with the root at the bottom", "[output]") {
    const auto boxes = boxes_of(written(sample_profile(), output::Format::Svg));
    REQUIRE(boxes.size() == 8); // "all" and the 7 distinct prefixes of the merged stacks
    const Box& root = box_labelled(boxes, "all");
    const Box& main = box_labelled(boxes, kMainLabel);
    const Box& korean = box_labelled(boxes, kKoreanLabel);
    const Box& native = box_labelled(boxes, kNativeLabel);
    CHECK(root.y > main.y);
    CHECK(main.y > korean.y);
    CHECK(root.width == Approx(1180.0));
    CHECK(main.width == Approx(1180.0));
    CHECK(korean.width == Approx(1180.0 * 0.80).margin(0.01));
    CHECK(native.width == Approx(1180.0 * 0.07).margin(0.01));
    CHECK_THAT(korean.title, Catch::Contains("samples: 80 (80.0%)"));
    CHECK_THAT(korean.title, Catch::Contains("CPU time: 80.00 ms"));
    CHECK_THAT(korean.title, Catch::Contains("RSS delta: +768.0 KiB"));
    // Siblings are laid out side by side without overlap.
    const Box& fire = box_labelled(boxes, kFireLabel);
    const Box& semicolon = box_labelled(boxes, kSemicolonLabel);
    CHECK(fire.y == korean.y);
    CHECK(semicolon.x + semicolon.width <= korean.x + 0.01);
    CHECK(korean.x + korean.width <= fire.x + 0.01);
}

TEST_CASE("svg colours: python warm, native another hue, threads grey, stable", "[output]") {
    const std::string svg = written(sample_profile({.per_thread = true}), output::Format::Svg);
    REQUIRE(xml_wellformedness_error(svg).empty());
    const auto boxes = boxes_of(svg);
    const auto rgb = [](const std::string& fill) {
        int r = 0, g = 0, b = 0;
        REQUIRE(std::sscanf(fill.c_str(), "rgb(%d,%d,%d)", &r, &g, &b) == 3);
        return std::array<int, 3>{r, g, b};
    };
    const auto python = rgb(box_labelled(boxes, kKoreanLabel).fill);
    CHECK(python[0] >= 205);
    CHECK(python[2] < 55);
    const auto native = rgb(box_labelled(boxes, kNativeLabel).fill);
    CHECK(native[2] >= 200);
    CHECK(native[0] < 130);
    const auto thread = rgb(box_labelled(boxes, "thread 100 \"MainThread\"").fill);
    CHECK(thread[0] == thread[1]);
    CHECK(thread[1] == thread[2]);
    // The same function is the same colour in both threads and in every run.
    std::set<std::string> main_fills;
    for (const Box& b : boxes) {
        if (b.title.starts_with(kMainLabel + "\n")) {
            main_fills.insert(b.fill);
        }
    }
    CHECK(main_fills.size() == 1);
    CHECK(written(sample_profile({.per_thread = true}), output::Format::Svg) == svg);
}

TEST_CASE("svg leaves out boxes narrower than the cut-off", "[output]") {
    profile::Profile p;
    const auto big = p.frames.intern({"big", "a.py", 1, profile::FrameKind::Python});
    const auto tiny = p.frames.intern({"tiny", "a.py", 2, profile::FrameKind::Python});
    const auto above = p.frames.intern({"above_tiny", "a.py", 3, profile::FrameKind::Python});
    p.stacks.add(p.stacks.intern(1, std::vector<profile::FrameId>{big}), {.samples = 1'000'000});
    p.stacks.add(p.stacks.intern(1, std::vector<profile::FrameId>{tiny, above}), {.samples = 1});
    const std::string svg = written(p, output::Format::Svg);
    REQUIRE(xml_wellformedness_error(svg).empty());
    CHECK_THAT(svg, Catch::Contains("<title>big (a.py:1)"));
    CHECK(svg.find("tiny") == std::string::npos);
    // The root still counts them.
    CHECK_THAT(box_labelled(boxes_of(svg), "all").title, Catch::Contains("1,000,001"));
}
