#include "cpuprof/flamegraph/palette.hpp"

#include <fmt/format.h>

namespace cpuprof::flamegraph {

namespace {

std::string_view function_name(std::string_view label) {
    const auto open = label.rfind(" (");
    if (open != std::string_view::npos && open > 0 && label.ends_with(')')) {
        return label.substr(0, open);
    }
    return label;
}

// FNV-1a, then MurmurHash3's finalizer: FNV alone barely moves the high bits for names that
// differ only in their last character ("f" and "g" came out the same colour).
std::uint64_t name_hash(std::string_view text) {
    std::uint64_t h = 1469598103934665603ULL;
    for (char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

// Three independent fractions in [0, 1) from different bits of one hash.
struct Shades {
    double a;
    double b;
    double c;
};

Shades shades_of(std::string_view name) {
    const std::uint64_t h = name_hash(name);
    const auto part = [h](int shift) {
        return static_cast<double>((h >> shift) & 0xFFFF) / 65536.0;
    };
    return {part(0), part(16), part(32)};
}

std::uint8_t channel(double base, double span, double fraction) {
    return static_cast<std::uint8_t>(base + span * fraction);
}

} // namespace

Rgb box_colour(std::string_view label, NodeKind kind) {
    const Shades s = shades_of(function_name(label));
    switch (kind) {
    case NodeKind::Python:
        return {channel(205, 50, s.a), channel(0, 230, s.b), channel(0, 55, s.c)};
    case NodeKind::Native:
        return {channel(60, 70, s.a), channel(150, 70, s.b), channel(200, 55, s.c)};
    case NodeKind::Other:
        break;
    }
    const std::uint8_t grey = channel(175, 35, s.a);
    return {grey, grey, grey};
}

std::string css_colour(Rgb colour) {
    return fmt::format("rgb({},{},{})", colour.r, colour.g, colour.b);
}

} // namespace cpuprof::flamegraph
