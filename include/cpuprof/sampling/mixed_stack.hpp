#pragma once

#include "cpuprof/native/stack_merge.hpp"
#include "cpuprof/native/symbolizer.hpp"
#include "cpuprof/native/unwinder.hpp"
#include "cpuprof/python/thread_stack.hpp"

#include <vector>

namespace cpuprof::sampling {

/// One frame of a merged native + Python stack.
struct MixedFrame {
    enum class Kind : std::uint8_t { Python, Native, Unmerged } kind;
    const python::PyFrame* python = nullptr;      ///< Kind::Python
    const native::NativeSymbol* native = nullptr; ///< Kind::Native
    RemoteAddr pc = 0;                            ///< Kind::Native
};

/// Reads the native stack of a stopped thread (libunwind over ptrace), symbolizes it (libdw, cached
/// by address) and merges the thread's Python frames in place of the eval-loop frames.
class MixedStackReader {
  public:
    MixedStackReader(Pid pid, bool keep_internal);

    /// `tid` must be in a ptrace stop held by the calling thread. Fills `out` innermost first.
    /// Returns false when the native and Python stacks did not agree (every frame is still there,
    /// after an Unmerged marker). capture() then merge().
    bool read(Tid tid, const python::ThreadStack& python, std::vector<MixedFrame>& out);

    /// Unwinds `tid`, which must be in a ptrace stop held by the calling thread: the only part
    /// that needs the thread stopped. The thread can be let go as soon as it returns.
    void capture(Tid tid);
    /// Symbolizes the captured stack and merges `python` (read during the same stop) into it.
    bool merge(const python::ThreadStack& python, std::vector<MixedFrame>& out);

  private:
    native::Unwinder unwinder_;
    native::Symbolizer symbolizer_;
    bool keep_internal_;
    std::vector<RemoteAddr> pcs_;
    std::vector<const native::NativeSymbol*> symbols_;
    std::vector<native::NativeRole> roles_;
    std::vector<std::uint8_t> entries_;
    std::vector<native::MergedItem> merged_;
};

} // namespace cpuprof::sampling
