#pragma once

#include <string>
#include <string_view>

namespace cpuprof::test {

/// Why `document` is not well-formed XML 1.0 (with the byte offset), or "" when it is. Covers
/// what a renderer can get wrong: UTF-8, forbidden characters, nesting, attribute quoting,
/// entity references, CDATA, comments and processing instructions. No DTDs.
[[nodiscard]] std::string xml_wellformedness_error(std::string_view document);

/// Replaces the five predefined entities and character references with their text.
[[nodiscard]] std::string xml_unescape(std::string_view text);

} // namespace cpuprof::test
