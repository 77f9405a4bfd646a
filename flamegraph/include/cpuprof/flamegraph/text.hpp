#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cpuprof::flamegraph {

/// Valid UTF-8 that is safe in XML 1.0 and on a terminal: invalid byte sequences, surrogates,
/// control characters other than tab, DEL and C1 controls, and U+FFFE/U+FFFF become U+FFFD.
/// Frame names come from another process's memory, so nothing about them is trusted.
[[nodiscard]] std::string sanitize_utf8(std::string_view text);

/// Terminal columns of sanitized UTF-8 text: East Asian wide characters and emoji count 2,
/// combining marks and zero-width characters 0, everything else 1.
[[nodiscard]] std::size_t display_width(std::string_view utf8);

/// `utf8` unchanged when it fits in `columns`, otherwise its longest prefix that fits together
/// with `ellipsis`, never splitting a character. Empty when not even the ellipsis fits.
[[nodiscard]] std::string
fit_to_width(std::string_view utf8, std::size_t columns, std::string_view ellipsis = "..");

/// Escapes &, <, >, " and ' so the text is safe both as XML character data and attribute value.
[[nodiscard]] std::string xml_escape(std::string_view text);

} // namespace cpuprof::flamegraph
