#pragma once

#include "cpuprof/python/offsets.hpp"

#include <cstdint>
#include <span>

namespace cpuprof::python {

/// The source line of the instruction at byte offset `byte_offset` in a code object's bytecode,
/// decoded from its line table as CPython's PyCode_Addr2Line does for each encoding:
/// - Lnotab (<=3.9): co_lnotab pairs (unsigned byte-offset increment, signed line increment);
/// - Linetable (3.10): co_linetable pairs (unsigned byte-offset delta, signed line delta, -128 =
///   no line);
/// - Locations (3.11+): the PEP 657 location table (entry header byte 1CCCCLLL).
/// A negative offset gives `first_line`. Returns -1 when the instruction has no line, or when the
/// table is malformed (truncated varints, offsets past the end): never reads past `table`.
[[nodiscard]] int line_for_offset(LineTableKind kind,
                                  std::span<const std::uint8_t> table,
                                  int first_line,
                                  int byte_offset) noexcept;

} // namespace cpuprof::python
