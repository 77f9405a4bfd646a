#include "cpuprof/flamegraph/text.hpp"

#include "cpuprof/common/utf8.hpp"

#include <array>
#include <cstdint>
#include <utility>

namespace cpuprof::flamegraph {

namespace {

using common::append_utf8;
using common::kReplacementCharacter;

struct Decoded {
    char32_t code_point;
    std::size_t length; ///< bytes consumed; 1 for an invalid sequence
    bool valid;
};

// Strict decoding: overlong forms, surrogates and values past U+10FFFF are invalid, as XML
// parsers and JSON libraries reject them.
Decoded decode(std::string_view text, std::size_t pos) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[pos + i]); };
    const unsigned char lead = byte(0);
    if (lead < 0x80) {
        return {lead, 1, true};
    }
    std::size_t length = 0;
    char32_t cp = 0;
    char32_t minimum = 0;
    if ((lead & 0xE0) == 0xC0) {
        length = 2;
        cp = lead & 0x1F;
        minimum = 0x80;
    } else if ((lead & 0xF0) == 0xE0) {
        length = 3;
        cp = lead & 0x0F;
        minimum = 0x800;
    } else if ((lead & 0xF8) == 0xF0) {
        length = 4;
        cp = lead & 0x07;
        minimum = 0x10000;
    } else {
        return {kReplacementCharacter, 1, false};
    }
    if (pos + length > text.size()) {
        return {kReplacementCharacter, 1, false};
    }
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xC0) != 0x80) {
            return {kReplacementCharacter, 1, false};
        }
        cp = (cp << 6) | (byte(i) & 0x3F);
    }
    if (cp < minimum || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return {kReplacementCharacter, 1, false};
    }
    return {cp, length, true};
}

bool is_forbidden(char32_t cp) {
    return (cp < 0x20 && cp != '\t') || (cp >= 0x7F && cp <= 0x9F) || cp == 0xFFFE || cp == 0xFFFF;
}

using Range = std::pair<char32_t, char32_t>;

// The ranges that matter for identifiers and thread names, from Unicode's EastAsianWidth
// (W and F) and the emoji blocks; not the full table.
constexpr std::array kWide{
    Range{0x1100, 0x115F},   Range{0x231A, 0x231B},   Range{0x23E9, 0x23EC},
    Range{0x25FD, 0x25FE},   Range{0x2614, 0x2615},   Range{0x2648, 0x2653},
    Range{0x26A1, 0x26A1},   Range{0x26AA, 0x26AB},   Range{0x26BD, 0x26BE},
    Range{0x26C4, 0x26C5},   Range{0x26D4, 0x26D4},   Range{0x26EA, 0x26EA},
    Range{0x26F2, 0x26F5},   Range{0x26FA, 0x26FD},   Range{0x2705, 0x2705},
    Range{0x270A, 0x270B},   Range{0x2728, 0x2728},   Range{0x274C, 0x274C},
    Range{0x2753, 0x2755},   Range{0x2757, 0x2757},   Range{0x2795, 0x2797},
    Range{0x27B0, 0x27B0},   Range{0x27BF, 0x27BF},   Range{0x2B1B, 0x2B1C},
    Range{0x2B50, 0x2B50},   Range{0x2B55, 0x2B55},   Range{0x2E80, 0x303E},
    Range{0x3041, 0x33FF},   Range{0x3400, 0x4DBF},   Range{0x4E00, 0x9FFF},
    Range{0xA000, 0xA4CF},   Range{0xA960, 0xA97F},   Range{0xAC00, 0xD7A3},
    Range{0xF900, 0xFAFF},   Range{0xFE10, 0xFE19},   Range{0xFE30, 0xFE6F},
    Range{0xFF00, 0xFF60},   Range{0xFFE0, 0xFFE6},   Range{0x1F004, 0x1F004},
    Range{0x1F0CF, 0x1F0CF}, Range{0x1F18E, 0x1F18E}, Range{0x1F191, 0x1F19A},
    Range{0x1F200, 0x1F251}, Range{0x1F300, 0x1F64F}, Range{0x1F680, 0x1F6FF},
    Range{0x1F7E0, 0x1F7EB}, Range{0x1F90C, 0x1F9FF}, Range{0x1FA70, 0x1FAFF},
    Range{0x20000, 0x3FFFD},
};

constexpr std::array kZeroWidth{
    Range{0x0300, 0x036F}, Range{0x0483, 0x0489},   Range{0x0591, 0x05BD}, Range{0x0610, 0x061A},
    Range{0x064B, 0x065F}, Range{0x200B, 0x200F},   Range{0x20D0, 0x20FF}, Range{0xFE00, 0xFE0F},
    Range{0xFE20, 0xFE2F}, Range{0xE0100, 0xE01EF},
};

template <std::size_t N> bool in_ranges(const std::array<Range, N>& ranges, char32_t cp) {
    for (const auto& [first, last] : ranges) {
        if (cp >= first && cp <= last) {
            return true;
        }
    }
    return false;
}

std::size_t width_of(char32_t cp) {
    if (in_ranges(kZeroWidth, cp)) {
        return 0;
    }
    return in_ranges(kWide, cp) ? 2 : 1;
}

} // namespace

std::string sanitize_utf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
        const Decoded d = decode(text, pos);
        if (d.valid && !is_forbidden(d.code_point)) {
            out.append(text.substr(pos, d.length));
        } else {
            append_utf8(out, kReplacementCharacter);
        }
        pos += d.length;
    }
    return out;
}

std::size_t display_width(std::string_view utf8) {
    std::size_t width = 0;
    for (std::size_t pos = 0; pos < utf8.size();) {
        const Decoded d = decode(utf8, pos);
        width += width_of(d.code_point);
        pos += d.length;
    }
    return width;
}

std::string fit_to_width(std::string_view utf8, std::size_t columns, std::string_view ellipsis) {
    if (display_width(utf8) <= columns) {
        return std::string(utf8);
    }
    const std::size_t ellipsis_width = display_width(ellipsis);
    if (ellipsis_width > columns) {
        return {};
    }
    const std::size_t budget = columns - ellipsis_width;
    std::size_t width = 0;
    std::size_t end = 0;
    while (end < utf8.size()) {
        const Decoded d = decode(utf8, end);
        const std::size_t w = width_of(d.code_point);
        if (width + w > budget) {
            break;
        }
        width += w;
        end += d.length;
    }
    std::string out(utf8.substr(0, end));
    out.append(ellipsis);
    return out;
}

std::string xml_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size() + text.size() / 8);
    for (char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&apos;";
            break;
        default:
            out.push_back(c);
        }
    }
    return out;
}

} // namespace cpuprof::flamegraph
