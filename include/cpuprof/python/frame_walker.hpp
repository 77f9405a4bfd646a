#pragma once

#include "cpuprof/process/remote_memory.hpp"
#include "cpuprof/python/code_cache.hpp"
#include "cpuprof/python/offsets.hpp"
#include "cpuprof/python/thread_stack.hpp"

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
    /// Reads one frame; returns false on a failed read.
    bool read_frame(RemoteAddr address);

    const process::RemoteMemory& memory_;
    const PyOffsets& offsets_;
    CodeCache& codes_;
    std::vector<std::byte> frame_;
};

} // namespace cpuprof::python
