// Input: kind selector (1 byte), first line (4 bytes), query offset (4 bytes), then the table.
#include "harnesses.hpp"

#include "cpuprof/python/linetable.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <span>

namespace cpuprof::fuzz {

namespace {

using python::LineTableKind;

constexpr std::size_t kPrefix = 9;
constexpr int kSweep = 512; // offsets swept per input, in bytes

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

// Bytes of bytecode the table describes; every offset at or past it has no line (3.10+).
std::int64_t covered_bytes(LineTableKind kind, std::span<const std::uint8_t> table) {
    std::int64_t total = 0;
    if (kind == LineTableKind::Locations) {
        for (std::size_t i = 0; i < table.size(); ++i) {
            if (i == 0 || (table[i] & 128U) != 0) {
                total += ((table[i] & 7) + 1) * 2;
            }
        }
    } else {
        for (std::size_t i = 0; i + 1 < table.size(); i += 2) {
            total += table[i];
        }
    }
    return total;
}

} // namespace

void linetable_one_input(const std::uint8_t* data, std::size_t size) {
    if (size < kPrefix) {
        return;
    }
    const auto kind = static_cast<LineTableKind>(data[0] % 3);
    std::int32_t first_line = 0;
    std::int32_t query = 0;
    std::memcpy(&first_line, data + 1, sizeof first_line);
    std::memcpy(&query, data + 5, sizeof query);
    // An exact-size copy, so that AddressSanitizer sees any read past the table.
    const std::size_t length = size - kPrefix;
    auto* copy = static_cast<std::uint8_t*>(std::malloc(length == 0 ? 1 : length));
    std::memcpy(copy, data + kPrefix, length);
    const std::span<const std::uint8_t> table(copy, length);

    const int answer = python::line_for_offset(kind, table, first_line, query);
    if (query < 0) {
        require(answer == first_line);
    }
    const std::int64_t covered = covered_bytes(kind, table);
    const int past_end = python::line_for_offset(
        kind, table, first_line, static_cast<int>(std::min<std::int64_t>(covered, 0x7fffffff)));
    if (kind == LineTableKind::Lnotab) {
        // lnotab has no "no line": past its last increment the line stays where it ended.
        require(python::line_for_offset(kind, table, first_line, 0x7fffffff) == past_end);
    } else {
        require(past_end == -1);
        if (query >= covered) {
            require(answer == -1);
        }
    }
    for (int offset = 0; offset < kSweep; offset += 2) {
        (void)python::line_for_offset(kind, table, first_line, offset);
    }
    std::free(copy);
}

} // namespace cpuprof::fuzz
