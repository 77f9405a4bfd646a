// Input: version selector (1 byte), start slot (1 byte), then a memory image mapped at kBase.
// Every 8-byte-aligned word of the image whose top 16 bits are all ones is a pointer into the
// image (kBase + low 32 bits, wrapped to its size), so that inputs can link frames, code objects
// and strings; every other byte is taken as it is. Code objects are recognised by an ob_type
// equal to kBase.
#include "harnesses.hpp"

#include "cpuprof/process/buffer_memory.hpp"
#include "cpuprof/python/code_cache.hpp"
#include "cpuprof/python/frame_walker.hpp"
#include "cpuprof/python/offsets.hpp"
#include "cpuprof/python/unicode.hpp"

#include <cstdlib>
#include <cstring>
#include <vector>

namespace cpuprof::fuzz {

namespace {

constexpr std::size_t kPrefix = 2;
constexpr RemoteAddr kBase = 0x7f0000000000;
constexpr std::uint64_t kPointerTag = 0xffff000000000000;
constexpr std::size_t kMaxName = python::kMaxStringLength * 4 + 3;

void require(bool condition) {
    if (!condition) {
        std::abort();
    }
}

struct Walk {
    python::ReadStatus status;
    bool truncated = false;
    std::vector<python::PyFrame> frames;
};

} // namespace

void walker_one_input(const std::uint8_t* data, std::size_t size) {
    if (size <= kPrefix) {
        return;
    }
    const auto* offsets = python::static_offsets(3, 8 + data[0] % 6);
    const std::size_t length = size - kPrefix;
    process::BufferMemory memory;
    std::byte* image = memory.map(kBase, length);
    std::memcpy(image, data + kPrefix, length);
    for (std::size_t at = 0; at + 8 <= length; at += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, image + at, sizeof word);
        if ((word & kPointerTag) == kPointerTag) {
            word = kBase + (word & 0xffffffff) % length;
            std::memcpy(image + at, &word, sizeof word);
        }
    }
    const RemoteAddr top = kBase + (static_cast<std::size_t>(data[1]) * 8) % length;

    python::CodeCache codes(memory, *offsets, kBase);
    python::FrameWalker walker(memory, *offsets, codes);
    Walk first;
    first.status = walker.walk(top, first.frames, first.truncated);
    require(first.frames.size() <= python::kMaxDepth);
    for (const auto& frame : first.frames) {
        require(frame.code != nullptr);
        require(frame.code->name.size() <= kMaxName && frame.code->filename.size() <= kMaxName);
    }
    // The image did not change, so a second walk (now from cached code objects) agrees.
    Walk second;
    second.status = walker.walk(top, second.frames, second.truncated);
    require(second.status == first.status && second.truncated == first.truncated);
    require(second.frames.size() == first.frames.size());
    for (std::size_t i = 0; i < first.frames.size(); ++i) {
        require(second.frames[i].code == first.frames[i].code);
        require(second.frames[i].line == first.frames[i].line);
        require(second.frames[i].is_entry == first.frames[i].is_entry);
    }
}

} // namespace cpuprof::fuzz
