// The frame walker on synthetic memory images of each frame model: names, lines, entry frames,
// shims, garbage, cycles and depth caps.
#include "cpuprof/process/buffer_memory.hpp"
#include "cpuprof/python/code_cache.hpp"
#include "cpuprof/python/frame_walker.hpp"
#include "cpuprof/python/offsets.hpp"

#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

using namespace cpuprof;
using namespace cpuprof::python;

namespace {

constexpr RemoteAddr kCodeType = 0x7000'0000;

/// Builds CPython objects of one version's layout in a BufferMemory, bump-allocated.
class Image {
  public:
    explicit Image(const PyOffsets& o)
        : o_(o) {}

    RemoteAddr alloc(std::size_t size) {
        const RemoteAddr at = next_;
        mem.map(at, size);
        next_ += (size + 0xff) & ~std::size_t{0xff};
        return at;
    }
    RemoteAddr str(const std::string& ascii) {
        const auto at = alloc(static_cast<std::size_t>(o_.unicode.ascii_data) + ascii.size() + 1);
        // kind 1 (bits 2-4), compact (bit 5), ascii (bit 6), ready (bit 7, <=3.11)
        mem.put<std::uint32_t>(at + o_.unicode.state,
                               (1u << 2) | (1u << 5) | (1u << 6) | (1u << 7));
        mem.put<std::int64_t>(at + o_.unicode.length, static_cast<std::int64_t>(ascii.size()));
        mem.write(at + o_.unicode.ascii_data, ascii.data(), ascii.size());
        return at;
    }
    RemoteAddr bytes(const std::vector<std::uint8_t>& data) {
        const auto at = alloc(static_cast<std::size_t>(o_.object.bytes_data) + data.size() + 1);
        mem.put<std::int64_t>(at + o_.object.bytes_size, static_cast<std::int64_t>(data.size()));
        if (!data.empty()) {
            mem.write(at + o_.object.bytes_data, data.data(), data.size());
        }
        return at;
    }
    /// A code object whose every instruction is on line first_line + 2 (3.11+ location table) or
    /// on first_line (older tables, left empty).
    RemoteAddr code(const std::string& name, const std::string& file, int first_line) {
        const auto at = alloc(static_cast<std::size_t>(o_.code.size) + 512);
        mem.put<RemoteAddr>(at + o_.object.ob_type, kCodeType);
        mem.put<RemoteAddr>(at + o_.code.name, str(name));
        if (o_.code.qualname >= 0) {
            mem.put<RemoteAddr>(at + o_.code.qualname, str("Q." + name));
        }
        mem.put<RemoteAddr>(at + o_.code.filename, str(file));
        mem.put<std::int32_t>(at + o_.code.firstlineno, first_line);
        std::vector<std::uint8_t> table;
        if (o_.line_table == LineTableKind::Locations) {
            for (int i = 0; i < 8; ++i) { // 8 entries of 8 code units, "no column", delta +2 then 0
                table.push_back(static_cast<std::uint8_t>(0x80 | (13 << 3) | 7));
                table.push_back(i == 0 ? 4 : 0);
            }
        }
        mem.put<RemoteAddr>(at + o_.code.linetable, bytes(table));
        return at;
    }
    /// A frame running `code` at `byte_offset`, linked to `previous`.
    RemoteAddr frame(RemoteAddr code,
                     RemoteAddr previous,
                     int byte_offset = 10,
                     int owner = 0,
                     bool is_entry = false) {
        const auto at = alloc(static_cast<std::size_t>(o_.frame.size) + 64);
        mem.put<RemoteAddr>(at + o_.frame.previous, previous);
        mem.put<RemoteAddr>(at + o_.frame.code, code);
        if (o_.frame_model == FrameModel::FrameObject) {
            const int lasti =
                o_.line_table == LineTableKind::Linetable ? byte_offset / 2 : byte_offset;
            mem.put<std::int32_t>(at + o_.frame.lasti, lasti);
        } else {
            mem.put<RemoteAddr>(at + o_.frame.instr_ptr,
                                code +
                                    static_cast<RemoteAddr>(o_.code.code_adaptive + byte_offset));
            mem.put<std::uint8_t>(at + o_.frame.owner, static_cast<std::uint8_t>(owner));
            if (o_.frame.is_entry >= 0) {
                mem.put<std::uint8_t>(at + o_.frame.is_entry, is_entry ? 1 : 0);
            }
        }
        return at;
    }
    process::BufferMemory mem;

  private:
    const PyOffsets& o_;
    RemoteAddr next_ = 0x10000;
};

struct Walk {
    ReadStatus status;
    bool truncated;
    std::vector<PyFrame> frames;
};

Walk walk(Image& image, const PyOffsets& o, RemoteAddr top) {
    CodeCache codes(image.mem, o, kCodeType);
    FrameWalker walker(image.mem, o, codes);
    Walk w;
    w.status = walker.walk(top, w.frames, w.truncated);
    // CodeInfo pointers die with the cache: copy what the checks need first.
    static std::vector<CodeInfo> keep;
    keep.clear();
    keep.reserve(w.frames.size());
    for (auto& f : w.frames) {
        keep.push_back(*f.code);
        f.code = &keep.back();
    }
    return w;
}

} // namespace

TEST_CASE("frame objects (3.8-3.10) are walked innermost first, each an entry frame", "[walker]") {
    for (const PyOffsets* o : {&kOffsets_3_8, &kOffsets_3_9, &kOffsets_3_10}) {
        Image image(*o);
        const auto outer = image.frame(image.code("main", "app.py", 10), 0);
        const auto mid = image.frame(image.code("render", "app.py", 20), outer);
        const auto top = image.frame(image.code("leaf", "lib.py", 30), mid);
        const auto w = walk(image, *o, top);
        REQUIRE(w.status == ReadStatus::Ok);
        REQUIRE(w.frames.size() == 3);
        CHECK(w.frames[0].code->name == "leaf");
        CHECK(w.frames[0].code->filename == "lib.py");
        CHECK(w.frames[0].line == 30);
        CHECK(w.frames[2].code->name == "main");
        CHECK(w.frames[1].is_entry);
    }
}

TEST_CASE("3.11 interpreter frames carry is_entry and qualified names", "[walker]") {
    const auto& o = kOffsets_3_11;
    Image image(o);
    const auto outer = image.frame(image.code("main", "app.py", 10), 0, 10, 0, true);
    const auto mid = image.frame(image.code("render", "app.py", 20), outer, 10, 0, true);
    const auto top = image.frame(image.code("leaf", "lib.py", 30), mid, 10, 0, false);
    const auto w = walk(image, o, top);
    REQUIRE(w.status == ReadStatus::Ok);
    REQUIRE(w.frames.size() == 3);
    CHECK(w.frames[0].code->name == "Q.leaf");
    CHECK(w.frames[0].line == 32); // location table: first line + 2
    CHECK_FALSE(w.frames[0].is_entry);
    CHECK(w.frames[1].is_entry);
    CHECK(w.frames[2].is_entry);
}

TEST_CASE("3.12/3.13 shim frames are skipped and mark the frame above them as entry", "[walker]") {
    for (const PyOffsets* o : {&kOffsets_3_12, &kOffsets_3_13}) {
        Image image(*o);
        const auto shim_outer = image.frame(image.code("shim", "<shim>", 1), 0, 0, 3);
        const auto f1 = image.frame(image.code("main", "app.py", 10), shim_outer);
        const auto shim = image.frame(image.code("shim", "<shim>", 1), f1, 0, 3);
        const auto f2 = image.frame(image.code("callback", "app.py", 20), shim);
        const auto f3 = image.frame(image.code("leaf", "app.py", 30), f2);
        const auto w = walk(image, *o, f3);
        REQUIRE(w.status == ReadStatus::Ok);
        REQUIRE(w.frames.size() == 3);
        CHECK(w.frames[0].code->name == "Q.leaf");
        CHECK_FALSE(w.frames[0].is_entry);
        CHECK(w.frames[1].code->name == "Q.callback");
        CHECK(w.frames[1].is_entry);
        CHECK(w.frames[2].code->name == "Q.main");
        CHECK(w.frames[2].is_entry);
    }
}

TEST_CASE("3.13 skips frames whose executable is not a code object", "[walker]") {
    const auto& o = kOffsets_3_13;
    Image image(o);
    const auto not_code = image.alloc(256);
    image.mem.put<RemoteAddr>(not_code + 8, RemoteAddr{0x1234}); // some other type
    const auto outer = image.frame(image.code("main", "app.py", 10), 0);
    const auto odd = image.frame(not_code, outer);
    const auto base = image.frame(0, odd); // NULL executable: a base frame
    const auto top = image.frame(image.code("leaf", "app.py", 30), base);
    const auto w = walk(image, o, top);
    REQUIRE(w.status == ReadStatus::Ok);
    REQUIRE(w.frames.size() == 2);
    CHECK(w.frames[0].code->name == "Q.leaf");
    CHECK(w.frames[1].code->name == "Q.main");
}

TEST_CASE("a cycle in the frame chain ends the walk as torn", "[walker]") {
    for (const PyOffsets* o : {&kOffsets_3_8, &kOffsets_3_12}) {
        Image image(*o);
        const auto code = image.code("spin", "app.py", 5);
        const auto a = image.frame(code, 0);
        const auto b = image.frame(code, a);
        const auto c = image.frame(code, b);
        image.mem.put<RemoteAddr>(a + o->frame.previous, c); // a -> c -> b -> a
        const auto w = walk(image, *o, c);
        CHECK(w.status == ReadStatus::Torn);
    }
}

TEST_CASE("garbage pointers fail the sample instead of crashing", "[walker]") {
    const auto& o = kOffsets_3_10;
    Image image(o);
    const auto top = image.frame(image.code("leaf", "app.py", 5), 0xdead0000);
    CHECK(walk(image, o, top).status == ReadStatus::Failed);

    Image bad_code(o);
    const auto frame = bad_code.frame(0xbad00000, 0);
    CHECK(walk(bad_code, o, frame).status == ReadStatus::Failed);

    Image wrong_type(o);
    const auto code = wrong_type.code("leaf", "app.py", 5);
    wrong_type.mem.put<RemoteAddr>(code + o.object.ob_type, RemoteAddr{0x42});
    CHECK(walk(wrong_type, o, wrong_type.frame(code, 0)).status == ReadStatus::Failed);

    Image truncated(o);
    const auto end = truncated.alloc(16); // a frame that is cut short by the end of the mapping
    CHECK(walk(truncated, o, end).status == ReadStatus::Failed);
}

TEST_CASE("stacks deeper than the cap are cut and marked truncated", "[walker]") {
    const auto& o = kOffsets_3_12;
    Image image(o);
    const auto code = image.code("recurse", "app.py", 5);
    RemoteAddr previous = 0;
    for (std::size_t i = 0; i < kMaxDepth + 50; ++i) {
        previous = image.frame(code, previous);
    }
    const auto w = walk(image, o, previous);
    CHECK(w.status == ReadStatus::Ok);
    CHECK(w.truncated);
    CHECK(w.frames.size() == kMaxDepth);
}
