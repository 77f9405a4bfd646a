#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace cpuprof::native {

/// How a native frame takes part in the merge.
enum class NativeRole : std::uint8_t {
    Other,       ///< a frame outside the interpreter (extension, libc, ...): always kept
    EvalLoop,    ///< an interpreter eval-loop frame: replaced by the Python frames it ran
    Interpreter, ///< another frame inside python/libpython: folded away unless keep_internal
};

/// One element of a merged stack: an index into the native or the Python frames, or a marker.
struct MergedItem {
    enum class Kind : std::uint8_t { Native, Python, Unmerged } kind;
    std::uint32_t index; ///< into the native or python span (0 for Unmerged)
    bool operator==(const MergedItem&) const = default;
};

/// Merges a native stack and a Python stack, both innermost first. Each EvalLoop native frame is
/// replaced by the Python frames from the current position up to and including the next frame
/// whose `python_is_entry` flag is non-zero. When the counts do not agree, every frame is still
/// kept: the leftover Python frames go to the outer end after one Unmerged marker, and the result
/// is false. `out` is cleared and filled innermost first.
bool merge_stacks(std::span<const NativeRole> native,
                  std::span<const std::uint8_t> python_is_entry,
                  bool keep_internal,
                  std::vector<MergedItem>& out);

} // namespace cpuprof::native
