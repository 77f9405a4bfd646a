#include "cpuprof/process/buffer_memory.hpp"
#include "cpuprof/python/unicode.hpp"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

using namespace cpuprof;
using namespace cpuprof::python;
using process::BufferMemory;

namespace {

constexpr std::uint32_t kCompact = 1U << 5;
constexpr std::uint32_t kAscii = 1U << 6;
constexpr std::uint32_t kBit7 = 1U << 7; // ready (<=3.11) / statically_allocated (3.12+)

std::uint32_t state_bits(int kind, bool ascii) {
    return (static_cast<std::uint32_t>(kind) << 2) | kCompact | (ascii ? kAscii : 0) | kBit7;
}

// Lays out a compact str object as CPython does: PyASCIIObject or PyCompactUnicodeObject header,
// then `length` code units of `kind` bytes and a terminating zero unit. Unless `slack` adds room,
// the region ends exactly at the end of the object, so any over-read shows up as a failed read.
void put_string(BufferMemory& memory,
                RemoteAddr at,
                const PyOffsets& offsets,
                const std::u32string& text,
                int kind,
                std::uint32_t state,
                std::int64_t length_field,
                std::size_t slack = 0) {
    const bool ascii = (state & kAscii) != 0;
    const auto data =
        static_cast<std::size_t>(ascii ? offsets.unicode.ascii_data : offsets.unicode.compact_data);
    const auto width = static_cast<std::size_t>(kind);
    memory.map(at, data + (text.size() + 1) * width + slack);
    memory.put<std::int64_t>(at, 1);                   // ob_refcnt
    memory.put<std::uint64_t>(at + 8, 0x7f0000001000); // ob_type
    memory.put<std::int64_t>(at + static_cast<RemoteAddr>(offsets.unicode.length), length_field);
    memory.put<std::int64_t>(at + 24, -1); // hash
    memory.put<std::uint32_t>(at + static_cast<RemoteAddr>(offsets.unicode.state), state);
    for (std::size_t i = 0; i < text.size(); ++i) {
        const std::uint32_t cp = text[i];
        memory.write(at + data + i * width, &cp, width); // little-endian: low bytes first
    }
}

void put_string(BufferMemory& memory,
                RemoteAddr at,
                const PyOffsets& offsets,
                const std::u32string& text,
                int kind,
                bool ascii) {
    put_string(memory, at, offsets, text, kind, state_bits(kind, ascii),
               static_cast<std::int64_t>(text.size()));
}

// Counts the reads that reach the image, to hold read_unicode to its read budget.
class CountingMemory final : public process::RemoteMemory {
  public:
    explicit CountingMemory(const BufferMemory& inner)
        : inner_(inner) {}
    [[nodiscard]] int
    read(RemoteAddr address, void* destination, std::size_t length) const noexcept override {
        ++reads;
        return inner_.read(address, destination, length);
    }
    mutable int reads = 0;

  private:
    const BufferMemory& inner_;
};

} // namespace

TEST_CASE("utf8_from_ucs converts every kind", "[python][unicode]") {
    const std::vector<std::uint8_t> latin1 = {'c', 'a', 'f', 0xE9};
    CHECK(utf8_from_ucs(std::as_bytes(std::span(latin1)), 1, 4) == "caf\xC3\xA9");
    const std::vector<std::uint16_t> ucs2 = {0xD568, 0xC218};
    CHECK(utf8_from_ucs(std::as_bytes(std::span(ucs2)), 2, 2) == "\xED\x95\xA8\xEC\x88\x98");
    const std::vector<std::uint32_t> ucs4 = {'a', 0x1F525, 'b'};
    CHECK(utf8_from_ucs(std::as_bytes(std::span(ucs4)), 4, 3) == "a\xF0\x9F\x94\xA5"
                                                                 "b");
    // Lone surrogates and values past U+10FFFF cannot be encoded.
    const std::vector<std::uint32_t> bad = {0xD800, 0x110000, 'x'};
    CHECK(utf8_from_ucs(std::as_bytes(std::span(bad)), 4, 3) == "\xEF\xBF\xBD\xEF\xBF\xBD"
                                                                "x");
    // Never past the data, whatever the length says.
    CHECK(utf8_from_ucs(std::as_bytes(std::span(ucs2)), 2, 100).size() == 6);
    CHECK(utf8_from_ucs(std::as_bytes(std::span(ucs2)), 3, 1).empty());
}

TEST_CASE("read_unicode decodes compact strings of 3.11 and 3.12 layouts", "[python][unicode]") {
    for (const PyOffsets* offsets : {&kOffsets_3_11, &kOffsets_3_12}) {
        INFO("layout of 3." << offsets->minor);
        BufferMemory memory;
        put_string(memory, 0x10000, *offsets, U"frame_walker", 1, true);
        put_string(memory, 0x20000, *offsets, U"caf\u00e9", 1, false);
        put_string(memory, 0x30000, *offsets, U"\ud568\uc218", 2, false);
        put_string(memory, 0x40000, *offsets, U"\U0001F525", 4, false);
        put_string(memory, 0x50000, *offsets, U"", 1, true);
        const std::u32string long_name(300, U'n');
        put_string(memory, 0x60000, *offsets, long_name, 1, true);

        CHECK(read_unicode(memory, *offsets, 0x10000) == "frame_walker");
        CHECK(read_unicode(memory, *offsets, 0x20000) == "caf\xC3\xA9");
        CHECK(read_unicode(memory, *offsets, 0x30000) == "\xED\x95\xA8\xEC\x88\x98");
        CHECK(read_unicode(memory, *offsets, 0x40000) == "\xF0\x9F\x94\xA5");
        CHECK(read_unicode(memory, *offsets, 0x50000) == "");
        CHECK(read_unicode(memory, *offsets, 0x60000) == std::string(300, 'n'));
    }
}

TEST_CASE("read_unicode reads the header once and the payload at most once", "[python][unicode]") {
    BufferMemory image;
    // Objects in a real heap are followed by other objects: give the image the same room.
    constexpr std::size_t kSlack = 64;
    const std::u32string long_name(64, U'x');
    put_string(image, 0x10000, kOffsets_3_12, U"run", 1, state_bits(1, true), 3, kSlack);
    put_string(image, 0x20000, kOffsets_3_12, long_name, 1, state_bits(1, true), 64, kSlack);
    put_string(image, 0x30000, kOffsets_3_12, U"\ud568\uc218", 2, state_bits(2, false), 2, kSlack);
    CountingMemory memory(image);

    CHECK(read_unicode(memory, kOffsets_3_12, 0x10000) == "run");
    CHECK(memory.reads == 1); // short ASCII payload arrives with the header
    memory.reads = 0;
    CHECK(read_unicode(memory, kOffsets_3_12, 0x20000) == std::string(64, 'x'));
    CHECK(memory.reads == 2);
    memory.reads = 0;
    CHECK(read_unicode(memory, kOffsets_3_12, 0x30000).has_value());
    CHECK(memory.reads == 2);
}

TEST_CASE("read_unicode cuts long strings and marks the cut", "[python][unicode]") {
    BufferMemory memory;
    put_string(memory, 0x10000, kOffsets_3_12, std::u32string(kMaxStringLength + 10, U'a'), 1,
               true);
    const auto text = read_unicode(memory, kOffsets_3_12, 0x10000);
    REQUIRE(text);
    CHECK(text->size() == kMaxStringLength + 3);
    CHECK(text->ends_with("a..."));
}

TEST_CASE("read_unicode rejects what is not a compact ready string", "[python][unicode]") {
    const auto& o11 = kOffsets_3_11;
    const auto& o12 = kOffsets_3_12;
    BufferMemory memory;
    // 3.11 strings must be ready; 3.12 reuses the bit (statically_allocated), so it is ignored.
    put_string(memory, 0x10000, o11, U"abc", 1, state_bits(1, true) & ~kBit7, 3);
    put_string(memory, 0x20000, o12, U"abc", 1, state_bits(1, true) & ~kBit7, 3);
    // Not compact (a legacy string whose data lives elsewhere).
    put_string(memory, 0x30000, o12, U"abc", 1, state_bits(1, true) & ~kCompact, 3);
    // Kinds that do not exist, and ASCII claimed for a wide kind.
    put_string(memory, 0x40000, o12, U"abc", 1, state_bits(3, false), 3);
    put_string(memory, 0x50000, o12, U"abc", 1, state_bits(0, false), 3);
    put_string(memory, 0x60000, o12, U"abc", 2, state_bits(2, true), 3);
    // A negative length, and a length that runs past the object.
    put_string(memory, 0x70000, o12, U"abc", 1, state_bits(1, true), -3);
    put_string(memory, 0x80000, o12, U"abc", 2, state_bits(2, false), 3000);

    CHECK_FALSE(read_unicode(memory, o11, 0x10000));
    CHECK(read_unicode(memory, o12, 0x20000) == "abc");
    CHECK_FALSE(read_unicode(memory, o12, 0x30000));
    CHECK_FALSE(read_unicode(memory, o12, 0x40000));
    CHECK_FALSE(read_unicode(memory, o12, 0x50000));
    CHECK_FALSE(read_unicode(memory, o12, 0x60000));
    CHECK_FALSE(read_unicode(memory, o12, 0x70000));
    CHECK_FALSE(read_unicode(memory, o12, 0x80000));
    CHECK_FALSE(read_unicode(memory, o12, 0x90000)); // unmapped
    CHECK_FALSE(read_unicode(memory, o12, 0x10008)); // a pointer into the middle of an object
}

TEST_CASE("read_unicode handles objects at the very end of a mapping", "[python][unicode]") {
    // "ab" on 3.11 occupies 51 bytes, fewer than the PyCompactUnicodeObject header (72): the
    // speculative header read fails and the exact ASCII header is read instead.
    BufferMemory memory;
    put_string(memory, 0x10000, kOffsets_3_11, U"ab", 1, true);
    CHECK(read_unicode(memory, kOffsets_3_11, 0x10000) == "ab");
    // The header itself truncated: nothing can be read.
    memory.map(0x20000, 20);
    CHECK_FALSE(read_unicode(memory, kOffsets_3_11, 0x20000));
}

TEST_CASE("read_bytes reads bytes objects", "[python][unicode]") {
    const auto& o = kOffsets_3_12;
    BufferMemory memory;
    const std::string payload = "\x01\x02\x00\xFFtable";
    memory.map(0x10000, static_cast<std::size_t>(o.object.bytes_data) + payload.size() + 1);
    memory.put<std::int64_t>(0x10000 + static_cast<RemoteAddr>(o.object.bytes_size),
                             static_cast<std::int64_t>(payload.size()));
    memory.write(0x10000 + static_cast<RemoteAddr>(o.object.bytes_data), payload.data(),
                 payload.size());
    CHECK(read_bytes(memory, o, 0x10000) == payload);
    CHECK(read_bytes(memory, o, 0x10000, 3) == payload.substr(0, 3));

    memory.map(0x20000, 64);
    memory.put<std::int64_t>(0x20000 + static_cast<RemoteAddr>(o.object.bytes_size), -1);
    CHECK_FALSE(read_bytes(memory, o, 0x20000));
    memory.put<std::int64_t>(0x20000 + static_cast<RemoteAddr>(o.object.bytes_size), 1000);
    CHECK_FALSE(read_bytes(memory, o, 0x20000)); // payload past the mapping
    CHECK_FALSE(read_bytes(memory, o, 0x90000));
}

TEST_CASE("str state words decode alike for every version", "[unicode]") {
    using cpuprof::python::decode_str_state;
    // compact (bit 5) + ascii (bit 6) + kind 1 (bits 2-4) + ready (bit 7): an ASCII str.
    const std::uint32_t ascii = (1U << 5) | (1U << 6) | (1U << 2) | (1U << 7);
    for (int minor = 8; minor <= 13; ++minor) {
        const auto s = decode_str_state(ascii, minor);
        CHECK(s.readable);
        CHECK(s.ascii);
        CHECK(s.kind == 1);
    }
    // Not ready: unreadable up to 3.11; from 3.12 that bit means statically allocated.
    const std::uint32_t not_ready = ascii & ~(1U << 7);
    CHECK_FALSE(decode_str_state(not_ready, 11).readable);
    CHECK(decode_str_state(not_ready, 12).readable);
    // UCS-2 and UCS-4 compact strings; kind 3 and a non-compact (legacy) string are rejected, as
    // is an "ascii" string of a wide kind.
    CHECK(decode_str_state((1U << 5) | (2U << 2) | (1U << 7), 11).kind == 2);
    CHECK(decode_str_state((1U << 5) | (4U << 2), 12).readable);
    CHECK_FALSE(decode_str_state((1U << 5) | (3U << 2), 12).readable);
    CHECK_FALSE(decode_str_state((1U << 2) | (1U << 7), 10).readable);
    CHECK_FALSE(decode_str_state((1U << 5) | (1U << 6) | (2U << 2), 13).readable);
}
