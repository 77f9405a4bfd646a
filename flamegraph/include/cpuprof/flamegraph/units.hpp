#pragma once

#include <cstdint>
#include <string>

namespace cpuprof::flamegraph {

/// 1234567 -> "1,234,567".
[[nodiscard]] std::string format_count(std::uint64_t value);
/// 1234567 -> "1.23M", 999 -> "999": for instruction counts.
[[nodiscard]] std::string format_si(std::uint64_t value);
/// Signed, binary units: "+1.5 MiB", "-512 KiB", "+100 B", "0 B".
[[nodiscard]] std::string format_bytes_signed(std::int64_t bytes);
/// "812 ns", "3.42 ms", "1.23 s", "2 min 3 s".
[[nodiscard]] std::string format_duration_ns(std::uint64_t ns);
/// part/whole as "45.1%" (one decimal); "0.0%" when whole is 0.
[[nodiscard]] std::string format_percent(double part, double whole);

} // namespace cpuprof::flamegraph
