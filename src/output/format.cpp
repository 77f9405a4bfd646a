#include "cpuprof/output/format.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <utility>

namespace cpuprof::output {

namespace {

std::string lowercase(std::string_view text) {
    std::string out(text);
    std::ranges::transform(out, out.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

constexpr std::array<std::pair<std::string_view, Format>, 9> kNames{{
    {"collapsed", Format::Collapsed},
    {"folded", Format::Collapsed},
    {"json", Format::Json},
    {"summary", Format::Summary},
    {"txt", Format::Summary},
    {"text", Format::Summary},
    {"speedscope", Format::Speedscope},
    {"svg", Format::Svg},
    {"flamegraph", Format::Svg},
}};

// Longest suffix first: ".speedscope.json" must win over ".json".
constexpr std::array<std::pair<std::string_view, Format>, 6> kExtensions{{
    {".speedscope.json", Format::Speedscope},
    {".json", Format::Json},
    {".svg", Format::Svg},
    {".txt", Format::Summary},
    {".collapsed", Format::Collapsed},
    {".folded", Format::Collapsed},
}};

} // namespace

std::optional<Format> parse_format(std::string_view name) {
    const std::string key = lowercase(name);
    for (const auto& [text, format] : kNames) {
        if (key == text) {
            return format;
        }
    }
    return std::nullopt;
}

std::optional<Format> format_from_path(std::string_view path) {
    const std::string lower = lowercase(path);
    const std::string_view file = std::string_view(lower).substr(lower.rfind('/') + 1);
    for (const auto& [extension, format] : kExtensions) {
        // A bare ".json" is a hidden file without an extension, not a JSON output.
        if (file.size() > extension.size() && file.ends_with(extension)) {
            return format;
        }
    }
    return std::nullopt;
}

std::string_view format_name(Format format) {
    switch (format) {
    case Format::Collapsed:
        return "collapsed";
    case Format::Json:
        return "json";
    case Format::Summary:
        return "summary";
    case Format::Speedscope:
        return "speedscope";
    case Format::Svg:
        return "svg";
    }
    return "unknown";
}

std::string_view extension_for(Format format) {
    switch (format) {
    case Format::Collapsed:
        return ".collapsed";
    case Format::Json:
        return ".json";
    case Format::Summary:
        return ".txt";
    case Format::Speedscope:
        return ".speedscope.json";
    case Format::Svg:
        return ".svg";
    }
    return "";
}

std::vector<Format> all_formats() {
    return {Format::Svg, Format::Json, Format::Speedscope, Format::Collapsed, Format::Summary};
}

} // namespace cpuprof::output
