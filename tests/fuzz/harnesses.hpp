#pragma once

#include <cstddef>
#include <cstdint>

namespace cpuprof::fuzz {

/// Fuzz entry points, shared by the libFuzzer binaries and the corpus replay test. Each decodes
/// one input and aborts when a decoder breaks one of its documented guarantees; a crash or a
/// sanitizer report is the other way to fail.
void linetable_one_input(const std::uint8_t* data, std::size_t size);
void unicode_one_input(const std::uint8_t* data, std::size_t size);
void walker_one_input(const std::uint8_t* data, std::size_t size);

} // namespace cpuprof::fuzz
