#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace cpuprof::profile {

enum class FrameKind : std::uint8_t {
    Python,  ///< a Python function: name is the qualified name, file the source file
    Native,  ///< a C/C++ function: name is the symbol, file the library
    Thread,  ///< the root frame of a per-thread stack (--threads): name is the thread's label
    Marker,  ///< a frame cpuprof adds itself, e.g. "<unmerged native stack>"
    Process, ///< the root frame of a process's stacks (--subprocesses): "process PID: command"
};

/// One frame as it is reported: a value type, interned once in a FrameTable.
struct Frame {
    std::string name;
    std::string file;
    int line = 0; ///< 0 when unknown or when lines are dropped (--function)
    FrameKind kind = FrameKind::Python;

    bool operator==(const Frame&) const = default;

    /// The text used in collapsed stacks and flamegraphs: `name (file:line)` for Python frames,
    /// `name (library)` for native ones, `name` otherwise. Never contains ';' or a newline.
    [[nodiscard]] std::string label() const;
};

/// "python", "native", "thread", "marker" or "process", as the JSON outputs spell it.
[[nodiscard]] const char* kind_name(FrameKind kind);

/// The basename of a path ("/usr/lib/libz.so.1" -> "libz.so.1").
[[nodiscard]] std::string basename_of(const std::string& path);

} // namespace cpuprof::profile
