#pragma once

#include "cpuprof/error.hpp"
#include "cpuprof/process/proc_maps.hpp"
#include "cpuprof/process/remote_memory.hpp"
#include "cpuprof/python/offsets.hpp"
#include "cpuprof/python/version.hpp"

#include <string>
#include <vector>

namespace cpuprof::python {

/// The process is Python but its interpreter is not initialised yet (e.g. just launched).
class InterpreterNotReady : public TargetError {
  public:
    using TargetError::TargetError;
};

/// Where a target's interpreter lives and how to read it.
struct Interpreter {
    PythonVersion version;
    PyOffsets offsets;
    RemoteAddr runtime = 0;   ///< address of _PyRuntime
    RemoteAddr code_type = 0; ///< address of PyCode_Type (0 when unknown)
    std::string binary;       ///< the file holding _PyRuntime: the executable or libpython
    std::string executable;   ///< /proc/PID/exe
    std::string offsets_source;
};

/// Finds the interpreter of process `pid`: _PyRuntime from the ELF symbols (.dynsym, .symtab) of
/// libpython or the executable, else their .PyRuntime section; the version from Py_Version or the
/// file name; the offsets from the static table or, on 3.13+, the target's _Py_DebugOffsets.
/// Throws NotPythonError (saying what was looked for), UnsupportedVersionError or
/// InterpreterNotReady.
[[nodiscard]] Interpreter locate_interpreter(Pid pid,
                                             const process::RemoteMemory& memory,
                                             const std::vector<process::MemoryMap>& maps);

/// Reads _PyRuntime.interpreters.head (the main interpreter); throws InterpreterNotReady if null.
[[nodiscard]] RemoteAddr main_interpreter(const process::RemoteMemory& memory,
                                          const Interpreter& interpreter);

} // namespace cpuprof::python
