#pragma once

#include "cpuprof/native/stack_merge.hpp"

#include <string_view>

namespace cpuprof::native {

/// True for the interpreter's eval loop itself: `_PyEval_EvalFrameDefault` (3.6+),
/// `PyEval_EvalFrameEx` (older) and the `_TAIL_CALL_*` handlers of 3.14+ tail-calling builds,
/// including the `.cold`/`.constprop` parts compilers split off them.
[[nodiscard]] bool is_eval_loop_symbol(std::string_view name) noexcept;

/// True when a module path is the python executable or a libpython shared library.
[[nodiscard]] bool is_interpreter_module(std::string_view module_path) noexcept;

/// EvalLoop for the eval loop, Interpreter for any other frame in the interpreter's own modules,
/// Other for everything else (extensions, libc, ...).
[[nodiscard]] NativeRole classify_frame(std::string_view symbol,
                                        std::string_view module_path) noexcept;

} // namespace cpuprof::native
