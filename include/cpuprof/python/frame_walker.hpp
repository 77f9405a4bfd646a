#pragma once

#include "cpuprof/direct_cache.hpp"
#include "cpuprof/process/remote_memory.hpp"
#include "cpuprof/python/code_cache.hpp"
#include "cpuprof/python/offsets.hpp"
#include "cpuprof/python/thread_stack.hpp"

#include <span>
#include <unordered_map>
#include <vector>

namespace cpuprof::python {

/// Deepest stack read; deeper stacks are cut at the root end and marked truncated.
inline constexpr std::size_t kMaxDepth = 4096;

/// Walks a chain of frames (PyFrameObject <=3.10, _PyInterpreterFrame 3.11+) from the innermost
/// one, iteratively, depth-capped and cycle-checked (Brent's algorithm: no extra reads or memory).
class FrameWalker {
  public:
    FrameWalker(const process::RemoteMemory& memory, const PyOffsets& offsets, CodeCache& codes);

    /// Fills `out` (cleared first) with the frames of the chain starting at `top`, innermost
    /// first. Returns Ok, Failed (a read failed or a frame makes no sense) or Torn (a cycle).
    [[nodiscard]] ReadStatus walk(RemoteAddr top, std::vector<PyFrame>& out, bool& truncated);

  private:
    /// One frame's bytes, valid until the next read of memory_; empty when it cannot be read.
    std::span<const std::byte> read_frame(RemoteAddr address);
    /// The line of an instruction, decoded once per (code object, offset) and remembered:
    /// decoding a line table from its start on every sample would dominate the sampling cost.
    int line_of(const CodeInfo& code, int byte_offset);

    const process::RemoteMemory& memory_;
    const PyOffsets& offsets_;
    CodeCache& codes_;
    std::vector<std::byte> frame_;
    struct LineKey {
        const CodeInfo* code;
        int offset;
        bool operator==(const LineKey&) const = default;
    };
    struct LineKeyHash {
        std::size_t operator()(const LineKey& k) const noexcept {
            return std::hash<const void*>{}(k.code) ^
                   (static_cast<std::size_t>(k.offset) * 0x9e3779b97f4a7c15ULL);
        }
    };
    std::unordered_map<LineKey, int, LineKeyHash> lines_;

    /// In front of the code cache and lines_: a frame's (code object address, byte offset) seen
    /// in this validation epoch of the code cache gives its code and line without either map.
    struct FrameMemoKey {
        RemoteAddr code = 0;
        int offset = 0;
        std::uint64_t epoch = 0;
        bool operator==(const FrameMemoKey&) const = default;
    };
    struct FrameMemoHash {
        std::size_t operator()(const FrameMemoKey& k) const noexcept {
            return static_cast<std::size_t>(k.code ^ (static_cast<std::uint64_t>(k.offset) << 40));
        }
    };
    struct FrameMemo {
        const CodeInfo* code = nullptr;
        int line = 0;
    };
    DirectCache<FrameMemoKey, FrameMemo, 256, FrameMemoHash> memo_;
};

} // namespace cpuprof::python
