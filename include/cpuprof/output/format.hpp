#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cpuprof::output {

enum class Format { Collapsed, Json, Summary, Speedscope, Svg };

/// "collapsed", "json", "summary", "speedscope", "svg" (also "folded", "txt", "text",
/// "flamegraph"), in any case.
[[nodiscard]] std::optional<Format> parse_format(std::string_view name);
/// From an output path's extension: .svg, .json, .speedscope.json, .txt, .collapsed, .folded
/// (in any case).
[[nodiscard]] std::optional<Format> format_from_path(std::string_view path);
[[nodiscard]] std::string_view format_name(Format format);
/// The file name extension written for a format by --output-dir (".speedscope.json", ...).
[[nodiscard]] std::string_view extension_for(Format format);
[[nodiscard]] std::vector<Format> all_formats();

} // namespace cpuprof::output
