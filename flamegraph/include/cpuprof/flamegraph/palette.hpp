#pragma once

#include "cpuprof/flamegraph/tree.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace cpuprof::flamegraph {

struct Rgb {
    std::uint8_t r = 0;
    std::uint8_t g = 0;
    std::uint8_t b = 0;

    bool operator==(const Rgb&) const = default;
};

/// The fill of a box: a hash of the function name (the label without its " (file:line)" part)
/// picks the shade, so the same function has the same colour everywhere and in every run.
/// Python frames are warm (red to yellow), native frames blue-green, the rest grey.
[[nodiscard]] Rgb box_colour(std::string_view label, NodeKind kind);

/// "rgb(r,g,b)".
[[nodiscard]] std::string css_colour(Rgb colour);

} // namespace cpuprof::flamegraph
