#pragma once

#include <string_view>

namespace cpuprof::flamegraph {

/// flamegraph.js and flamegraph.css, embedded at build time so every SVG is self-contained.
extern const std::string_view kSvgScript;
extern const std::string_view kSvgStyle;

} // namespace cpuprof::flamegraph
