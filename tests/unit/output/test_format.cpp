#include "cpuprof/output/format.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace cpuprof::output;

TEST_CASE("format names parse in any case, with their aliases", "[output]") {
    CHECK(parse_format("collapsed") == Format::Collapsed);
    CHECK(parse_format("folded") == Format::Collapsed);
    CHECK(parse_format("JSON") == Format::Json);
    CHECK(parse_format("summary") == Format::Summary);
    CHECK(parse_format("txt") == Format::Summary);
    CHECK(parse_format("text") == Format::Summary);
    CHECK(parse_format("Speedscope") == Format::Speedscope);
    CHECK(parse_format("svg") == Format::Svg);
    CHECK(parse_format("flamegraph") == Format::Svg);
    CHECK_FALSE(parse_format("pprof").has_value());
    CHECK_FALSE(parse_format("").has_value());
}

TEST_CASE("the format follows the output path's extension", "[output]") {
    CHECK(format_from_path("out/profile.svg") == Format::Svg);
    CHECK(format_from_path("profile.SVG") == Format::Svg);
    CHECK(format_from_path("/tmp/p.speedscope.json") == Format::Speedscope);
    CHECK(format_from_path("/tmp/p.json") == Format::Json);
    CHECK(format_from_path("p.txt") == Format::Summary);
    CHECK(format_from_path("p.collapsed") == Format::Collapsed);
    CHECK(format_from_path("p.folded") == Format::Collapsed);
    CHECK_FALSE(format_from_path("profile").has_value());
    CHECK_FALSE(format_from_path("profile.html").has_value());
    CHECK_FALSE(format_from_path("dir.svg/profile").has_value());
    CHECK_FALSE(format_from_path("-").has_value());
    // A dot file is a name, not an extension.
    CHECK_FALSE(format_from_path("out/.json").has_value());
}

TEST_CASE("every format round-trips through its name and its extension", "[output]") {
    const auto formats = all_formats();
    CHECK(formats.size() == 5);
    for (Format f : formats) {
        CAPTURE(format_name(f));
        CHECK(parse_format(format_name(f)) == f);
        CHECK(format_from_path("profile" + std::string(extension_for(f))) == f);
    }
    CHECK(extension_for(Format::Speedscope) == ".speedscope.json");
    CHECK(extension_for(Format::Summary) == ".txt");
}
