#pragma once

#include "cpuprof/process/remote_memory.hpp"
#include "cpuprof/python/interpreter.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>

namespace cpuprof::python {

/// Most thread names read from one target; threads past it keep their OS names.
inline constexpr std::size_t kMaxThreadNames = 4096;

/// threading.get_ident() (== PyThreadState.thread_id, the pthread_t) -> threading.Thread.name.
using ThreadNames = std::unordered_map<std::uint64_t, std::string>;

/// Reads the Python-level names of the threads of interpreter `interp` (a PyInterpreterState
/// address): every Thread in sys.modules['threading']._active, and threading._main_thread. The
/// walk reads a few dicts, so call it once per dump or thread refresh, not per sample. Returns
/// an empty map when threading was never imported or anything cannot be read; never throws on
/// bad remote data. Names longer than kMaxStringLength code points are cut.
[[nodiscard]] ThreadNames read_thread_names(const process::RemoteMemory& memory,
                                            const Interpreter& interpreter,
                                            RemoteAddr interp);

} // namespace cpuprof::python
