#include "cpuprof/flamegraph/units.hpp"

#include <array>
#include <cmath>
#include <fmt/format.h>

namespace cpuprof::flamegraph {

std::string format_count(std::uint64_t value) {
    const std::string digits = std::to_string(value);
    std::string out;
    out.reserve(digits.size() + digits.size() / 3);
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) {
            out.push_back(',');
        }
        out.push_back(digits[i]);
    }
    return out;
}

std::string format_si(std::uint64_t value) {
    static constexpr std::array<const char*, 6> kSuffixes{"", "k", "M", "G", "T", "P"};
    if (value < 1000) {
        return std::to_string(value);
    }
    auto scaled = static_cast<double>(value);
    std::size_t unit = 0;
    while (scaled >= 999.995 && unit + 1 < kSuffixes.size()) {
        scaled /= 1000.0;
        ++unit;
    }
    return fmt::format("{:.2f}{}", scaled, kSuffixes[unit]);
}

std::string format_bytes_signed(std::int64_t bytes) {
    static constexpr std::array<const char*, 6> kUnits{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    if (bytes == 0) {
        return "0 B";
    }
    const char sign = bytes < 0 ? '-' : '+';
    // Through unsigned so that INT64_MIN has a magnitude.
    const std::uint64_t magnitude =
        bytes < 0 ? 0 - static_cast<std::uint64_t>(bytes) : static_cast<std::uint64_t>(bytes);
    if (magnitude < 1024) {
        return fmt::format("{}{} B", sign, magnitude);
    }
    auto scaled = static_cast<double>(magnitude) / 1024.0;
    std::size_t unit = 0;
    while (scaled >= 1023.95 && unit + 1 < kUnits.size()) {
        scaled /= 1024.0;
        ++unit;
    }
    return fmt::format("{}{:.1f} {}", sign, scaled, kUnits[unit]);
}

std::string format_duration_ns(std::uint64_t ns) {
    if (ns < 1000) {
        return fmt::format("{} ns", ns);
    }
    const auto value = static_cast<double>(ns);
    if (ns < 1'000'000) {
        return fmt::format("{:.2f} us", value / 1e3);
    }
    if (ns < 1'000'000'000) {
        return fmt::format("{:.2f} ms", value / 1e6);
    }
    if (ns < 60'000'000'000ULL) {
        return fmt::format("{:.2f} s", value / 1e9);
    }
    const std::uint64_t seconds = ns / 1'000'000'000ULL;
    return fmt::format("{} min {} s", seconds / 60, seconds % 60);
}

std::string format_percent(double part, double whole) {
    if (!(whole > 0) || !std::isfinite(part)) {
        return "0.0%";
    }
    return fmt::format("{:.1f}%", 100.0 * part / whole);
}

} // namespace cpuprof::flamegraph
