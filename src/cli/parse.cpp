#include "cpuprof/cli/parse.hpp"

#include "cpuprof/error.hpp"

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <optional>

namespace cpuprof::cli {

namespace {
constexpr double kMaxRate = 100000;
// Below this the tick period no longer fits the ticker's 64-bit nanoseconds.
constexpr double kMinRate = 0.01;
// A year: longer ones overflow the sampler's 64-bit nanosecond deadline.
constexpr double kMaxDuration = 365.0 * 24 * 3600;

std::optional<double> to_double(const std::string& text) {
    if (text.empty()) {
        return std::nullopt;
    }
    char* end = nullptr;
    errno = 0;
    double value = std::strtod(text.c_str(), &end);
    if (errno != 0 || end != text.c_str() + text.size() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}
} // namespace

Pid parse_pid(const std::string& text) {
    char* end = nullptr;
    errno = 0;
    const bool hex = text.starts_with("0x") || text.starts_with("0X");
    long long value = text.empty() ? 0 : std::strtoll(text.c_str(), &end, hex ? 16 : 10);
    if (text.empty() || errno != 0 || end != text.c_str() + text.size()) {
        throw UsageError(fmt::format(
            "invalid --pid '{}': give the numeric id of a running Python process", text));
    }
    if (value <= 0 || value > INT_MAX) {
        throw UsageError(
            fmt::format("invalid --pid {}: a process id is a positive number (see ps -e)", text));
    }
    return static_cast<Pid>(value);
}

double parse_rate(const std::string& text) {
    auto value = to_double(text);
    if (!value) {
        throw UsageError(fmt::format(
            "invalid --rate '{}': give samples per second as a number, e.g. --rate 1000", text));
    }
    if (*value < kMinRate || *value > kMaxRate) {
        throw UsageError(fmt::format(
            "invalid --rate {}: it must be at least {} and at most {} samples per second", text,
            kMinRate, kMaxRate));
    }
    return *value;
}

double parse_duration(const std::string& text) {
    auto value = to_double(text);
    if (!value || *value <= 0) {
        throw UsageError(fmt::format(
            "invalid --duration '{}': give a number of seconds above 0, e.g. --duration 30", text));
    }
    if (*value > kMaxDuration) {
        throw UsageError(fmt::format("invalid --duration {}: at most {} seconds (a year); leave "
                                     "--duration out to record until Ctrl-C",
                                     text, kMaxDuration));
    }
    return *value;
}

} // namespace cpuprof::cli
