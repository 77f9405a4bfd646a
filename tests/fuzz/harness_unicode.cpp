// Input: version selector (1 byte), bytes cap selector (1 byte), kind (1 byte), then the bytes of
// one object, mapped into a synthetic image that ends where the input ends.
#include "harnesses.hpp"

#include "cpuprof/process/buffer_memory.hpp"
#include "cpuprof/python/offsets.hpp"
#include "cpuprof/python/unicode.hpp"

#include <cstdlib>
#include <cstring>
#include <string_view>

namespace cpuprof::fuzz {

namespace {

constexpr std::size_t kPrefix = 3;
constexpr RemoteAddr kObject = 0x7f0000010000;

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

bool valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t extra = 0;
        char32_t cp = 0;
        if (lead < 0x80) {
            cp = lead;
        } else if ((lead & 0xE0) == 0xC0) {
            extra = 1;
            cp = lead & 0x1F;
        } else if ((lead & 0xF0) == 0xE0) {
            extra = 2;
            cp = lead & 0x0F;
        } else if ((lead & 0xF8) == 0xF0) {
            extra = 3;
            cp = lead & 0x07;
        } else {
            return false;
        }
        if (i + extra >= text.size()) {
            return false;
        }
        for (std::size_t k = 1; k <= extra; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80) {
                return false;
            }
            cp = (cp << 6) | (next & 0x3F);
        }
        const char32_t min_for_length[] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_for_length[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            return false;
        }
        i += extra + 1;
    }
    return true;
}

} // namespace

void unicode_one_input(const std::uint8_t* data, std::size_t size) {
    if (size < kPrefix) {
        return;
    }
    const auto* offsets = python::static_offsets(3, 8 + data[0] % 6);
    const std::size_t max_bytes = data[1];
    const int kinds[] = {1, 2, 4, 3};
    const int kind = kinds[data[2] % 4];
    const std::span<const std::byte> object(reinterpret_cast<const std::byte*>(data + kPrefix),
                                            size - kPrefix);

    const auto direct = python::utf8_from_ucs(object, kind, object.size());
    require(valid_utf8(direct));
    require(direct.size() <= object.size() * 4);

    process::BufferMemory memory;
    if (!object.empty()) {
        std::memcpy(memory.map(kObject, object.size()), object.data(), object.size());
    }
    // The object itself, and a pointer into its middle as a torn read would give.
    for (const RemoteAddr at : {kObject, kObject + object.size() / 2}) {
        if (const auto text = python::read_unicode(memory, *offsets, at)) {
            require(valid_utf8(*text));
            require(text->size() <= python::kMaxStringLength * 4 + 3);
        }
        if (const auto bytes = python::read_bytes(memory, *offsets, at, max_bytes)) {
            require(bytes->size() <= max_bytes && bytes->size() <= object.size());
        }
    }
}

} // namespace cpuprof::fuzz
