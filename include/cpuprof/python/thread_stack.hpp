#pragma once

#include "cpuprof/types.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace cpuprof::python {

/// What cpuprof keeps of a code object: decoded once, cached by address.
struct CodeInfo {
    std::string name;     ///< co_qualname (3.11+) or co_name
    std::string filename; ///< co_filename
    int first_line = 0;   ///< co_firstlineno
    std::vector<std::uint8_t> line_table;
};

/// One Python frame of a sampled thread.
struct PyFrame {
    const CodeInfo* code = nullptr; ///< owned by the reader's code cache; valid while it lives
    int line = 0;                   ///< current line, or first_line when unknown
    /// True for the outermost frame run by one call of the interpreter's eval loop: the frame a
    /// native `_PyEval_EvalFrameDefault` frame stands for, up to and including this one (<=3.10
    /// every frame; 3.11 `is_entry`; 3.12+ the frame just above a shim frame).
    bool is_entry = false;
};

/// How the read of one thread's stack ended.
enum class ReadStatus : std::uint8_t {
    Ok,     ///< every frame was read
    Failed, ///< a remote read failed (the thread exited, memory was unmapped)
    Torn,   ///< the stack changed while it was read (non-blocking mode): dropped, not emitted
};

/// The Python stack of one thread, innermost frame first.
struct ThreadStack {
    Tid tid = 0;                 ///< OS thread id (0 when it could not be determined)
    std::uint64_t thread_id = 0; ///< pthread_t / threading.get_ident()
    RemoteAddr tstate = 0;       ///< the PyThreadState
    bool holds_gil = false;
    ReadStatus status = ReadStatus::Ok;
    bool truncated = false; ///< the walk stopped at the depth cap
    std::vector<PyFrame> frames;
};

} // namespace cpuprof::python
