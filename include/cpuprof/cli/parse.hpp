#pragma once

#include "cpuprof/types.hpp"

#include <string>

namespace cpuprof::cli {

/// Parses a --pid value: decimal or 0x hex, > 0. Throws UsageError naming the value and the fix.
[[nodiscard]] Pid parse_pid(const std::string& text);
/// Parses a --rate value: a number of samples per second in (0, 100000]. Throws UsageError.
[[nodiscard]] double parse_rate(const std::string& text);
/// Parses a --duration value: seconds, > 0. Throws UsageError.
[[nodiscard]] double parse_duration(const std::string& text);

} // namespace cpuprof::cli
