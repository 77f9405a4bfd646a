// Line-table decoders, one per encoding, following PyCode_Addr2Line of the CPython versions that
// use them (Objects/codeobject.c). Remote tables are untrusted, so every byte access is checked
// against the span and all arithmetic is done in 64 bits.
#include "cpuprof/python/linetable.hpp"

#include <cstddef>
#include <limits>

namespace cpuprof::python {

namespace {

constexpr int kNoLine = -1;

int to_line(std::int64_t line) {
    if (line < std::numeric_limits<int>::min() || line > std::numeric_limits<int>::max()) {
        return kNoLine;
    }
    return static_cast<int>(line);
}

// <=3.9: (unsigned byte-offset increment, signed line increment) pairs. The line advances for
// every pair whose cumulative offset is <= the query; a trailing odd byte is ignored.
int lnotab_line(std::span<const std::uint8_t> table, int first_line, int byte_offset) {
    std::int64_t line = first_line;
    std::int64_t address = 0;
    for (std::size_t i = 0; i + 1 < table.size(); i += 2) {
        address += table[i];
        if (address > byte_offset) {
            break;
        }
        line += static_cast<std::int8_t>(table[i + 1]);
    }
    return to_line(line);
}

// 3.10 (PEP 626): (unsigned byte delta, signed line delta) pairs describing consecutive ranges;
// a line delta of -128 means "no line" and leaves the running line unchanged. Ranges of zero
// length are skipped, as PyLineTable_NextAddressRange does.
int linetable_line(std::span<const std::uint8_t> table, int first_line, int byte_offset) {
    std::int64_t computed_line = first_line;
    std::int64_t range_end = 0;
    std::int64_t range_line = kNoLine;
    std::size_t next = 0;
    auto advance = [&]() -> bool {
        if (next + 1 >= table.size()) {
            return false;
        }
        const std::int64_t start = range_end;
        range_end += table[next];
        const int line_delta = static_cast<std::int8_t>(table[next + 1]);
        next += 2;
        if (line_delta == -128) {
            range_line = kNoLine;
        } else {
            computed_line += line_delta;
            range_line = computed_line;
        }
        return range_end != start;
    };
    while (range_end <= byte_offset) {
        bool nonempty = false;
        while (!nonempty) {
            if (next + 1 >= table.size()) {
                return kNoLine; // the offset lies past the last range
            }
            nonempty = advance();
        }
    }
    return range_line == kNoLine ? kNoLine : to_line(range_line);
}

// 3.11+ (PEP 657) location table. Each entry starts with a byte 1CCCCLLL: code C and length
// L+1 in code units of 2 bytes, followed by varints that continue until the next byte with the
// top bit set. Only the line delta matters here: codes 0-9 (short form) and 10 (one-line, same
// line) keep the line, 11 and 12 add 1 and 2, 13 (no columns) and 14 (long form) start with a
// signed varint delta, 15 has no line.
enum LocationCode : unsigned {
    kOneLine1 = 11,
    kOneLine2 = 12,
    kNoColumns = 13,
    kLong = 14,
    kNone = 15,
};

// Unsigned varint: 6 bits per byte, bit 6 = more. False when it runs off the table or is longer
// than any real varint (32 bits).
bool read_varint(std::span<const std::uint8_t> table, std::size_t at, std::uint32_t& value) {
    value = 0;
    for (unsigned shift = 0; shift < 32; shift += 6) {
        if (at >= table.size()) {
            return false;
        }
        const std::uint8_t byte = table[at++];
        value |= static_cast<std::uint32_t>(byte & 63U) << shift;
        if ((byte & 64U) == 0) {
            return true;
        }
    }
    return false;
}

bool location_line_delta(std::span<const std::uint8_t> table,
                         std::size_t entry,
                         std::int64_t& delta) {
    const unsigned code = (table[entry] >> 3) & 15U;
    switch (code) {
    case kNoColumns:
    case kLong: {
        std::uint32_t raw = 0;
        if (!read_varint(table, entry + 1, raw)) {
            return false;
        }
        // Signed varints keep the sign in bit 0.
        const auto magnitude = static_cast<std::int64_t>(raw >> 1);
        delta = (raw & 1U) != 0 ? -magnitude : magnitude;
        return true;
    }
    case kOneLine1:
        delta = 1;
        return true;
    case kOneLine2:
        delta = 2;
        return true;
    default: // short forms, one-line form 0 and "none" keep the line
        delta = 0;
        return true;
    }
}

int locations_line(std::span<const std::uint8_t> table, int first_line, int byte_offset) {
    constexpr std::int64_t kCodeUnit = 2;
    std::int64_t computed_line = first_line;
    std::int64_t range_end = 0;
    std::size_t next = 0;
    while (next < table.size()) {
        const std::uint8_t header = table[next];
        std::int64_t delta = 0;
        if (!location_line_delta(table, next, delta)) {
            return kNoLine;
        }
        computed_line += delta;
        // The "no line" marker is a whole header byte of 11111LLL, top bit included.
        const bool no_line = (header >> 3) == 0x1F;
        range_end += ((header & 7) + 1) * kCodeUnit;
        if (byte_offset < range_end) {
            return no_line ? kNoLine : to_line(computed_line);
        }
        do {
            ++next;
        } while (next < table.size() && (table[next] & 128U) == 0);
    }
    return kNoLine;
}

} // namespace

int line_for_offset(LineTableKind kind,
                    std::span<const std::uint8_t> table,
                    int first_line,
                    int byte_offset) noexcept {
    if (byte_offset < 0) {
        return first_line;
    }
    switch (kind) {
    case LineTableKind::Lnotab:
        return lnotab_line(table, first_line, byte_offset);
    case LineTableKind::Linetable:
        return linetable_line(table, first_line, byte_offset);
    case LineTableKind::Locations:
        return locations_line(table, first_line, byte_offset);
    }
    return kNoLine;
}

} // namespace cpuprof::python
