#include "cpuprof/native/frame_role.hpp"

#include <array>

namespace cpuprof::native {

namespace {

// GCC splits hot functions into `name.cold`, `name.part.0`, `name.constprop.0`: same frame.
bool is_symbol_or_clone(std::string_view name, std::string_view base) noexcept {
    return name.starts_with(base) && (name.size() == base.size() || name[base.size()] == '.');
}

} // namespace

bool is_eval_loop_symbol(std::string_view name) noexcept {
    static constexpr std::array<std::string_view, 2> kEvalLoops{"_PyEval_EvalFrameDefault",
                                                                "PyEval_EvalFrameEx"};
    for (std::string_view base : kEvalLoops) {
        if (is_symbol_or_clone(name, base)) {
            return true;
        }
    }
    return name.starts_with("_TAIL_CALL_");
}

bool is_interpreter_module(std::string_view module_path) noexcept {
    const auto slash = module_path.rfind('/');
    const std::string_view base =
        slash == std::string_view::npos ? module_path : module_path.substr(slash + 1);
    // "python3.12", "python3.12d", "python" and "libpython3.12.so.1.0"; not "pythonfoo.so" style
    // extension modules, which sit in site-packages and are named by their import name.
    if (base.starts_with("libpython")) {
        return base.find(".so") != std::string_view::npos;
    }
    if (!base.starts_with("python")) {
        return false;
    }
    return base.find(".so") == std::string_view::npos;
}

NativeRole classify_frame(std::string_view symbol, std::string_view module_path) noexcept {
    if (is_eval_loop_symbol(symbol)) {
        return NativeRole::EvalLoop;
    }
    if (is_interpreter_module(module_path)) {
        return NativeRole::Interpreter;
    }
    return NativeRole::Other;
}

} // namespace cpuprof::native
