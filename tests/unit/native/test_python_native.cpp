#include "cpuprof/native/symbolizer.hpp"
#include "cpuprof/native/unwinder.hpp"
#include "cpuprof/process/ptrace_session.hpp"
#include "native_test_support.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <functional>
#include <optional>
#include <thread>

using namespace cpuprof;
using namespace cpuprof::native;
using namespace cpuprof::test;

namespace {

struct NativeStack {
    UnwindResult result;
    std::vector<NativeSymbol> frames;

    [[nodiscard]] std::string text() const {
        std::vector<std::string> names;
        for (const auto& frame : frames) {
            const auto slash = frame.module.rfind('/');
            names.push_back(fmt::format("{} [{}]", frame.name, frame.module.substr(slash + 1)));
        }
        return fmt::format("{}", fmt::join(names, " <- "));
    }
    /// Index of the first frame (from `from`, innermost first) that satisfies `accept`.
    [[nodiscard]] std::optional<std::size_t>
    find(const std::function<bool(const NativeSymbol&)>& accept, std::size_t from = 0) const {
        for (std::size_t i = from; i < frames.size(); ++i) {
            if (accept(frames[i])) {
                return i;
            }
        }
        return std::nullopt;
    }
};

std::string module_basename(const NativeSymbol& s) {
    return s.module.substr(s.module.rfind('/') + 1);
}

bool is_eval_loop(const NativeSymbol& s) {
    return s.role == NativeRole::EvalLoop;
}

ChildProcess start_script(const Interpreter& interpreter, const std::string& script) {
    ChildProcess child = ChildProcess::exec({interpreter.path, native_fixture_dir() + "/" + script,
                                             std::to_string(ChildProcess::kEventFd)});
    REQUIRE(child.wait_for('R', 30s));
    return child;
}

// Samples the main thread until the stack shows what the test is after: where a stop lands is up
// to the scheduler, so a few samples may be elsewhere (in the Python loop around the C call).
NativeStack sample_until(Pid pid, const std::function<bool(const NativeStack&)>& wanted) {
    constexpr int kAttempts = 300;
    Unwinder unwinder(pid);
    Symbolizer symbolizer(pid);
    std::vector<RemoteAddr> pcs;
    std::vector<const NativeSymbol*> symbols;
    NativeStack stack;
    for (int attempt = 0; attempt < kAttempts; ++attempt) {
        {
            process::ThreadStop stop(pid, pid);
            REQUIRE(stop.stopped());
            stack.result = unwinder.unwind(pid, pcs);
        }
        symbolizer.symbolize(pcs, symbols);
        stack.frames.clear();
        for (const NativeSymbol* symbol : symbols) {
            stack.frames.push_back(*symbol);
        }
        if (wanted(stack)) {
            return stack;
        }
        std::this_thread::sleep_for(2ms); // let the target run between samples
    }
    FAIL("no sample of pid " << pid << " showed the expected frames in " << kAttempts
                             << " attempts; the last one: " << stack.text());
    return stack;
}

bool in_deflate(const NativeSymbol& s) {
    return s.name == "deflate" && module_basename(s).starts_with("libz.so");
}

bool in_qsort(const NativeSymbol& s) {
    return s.name.find("qsort") != std::string::npos && module_basename(s).starts_with("libc.so");
}

bool is_interpreter_main(const NativeSymbol& s) {
    return s.name == "Py_RunMain" || s.name == "Py_BytesMain" || s.name == "main";
}

} // namespace

TEST_CASE("native stacks of real interpreters: Python calling zlib", "[native][python]") {
    for (const Interpreter& interpreter : available_interpreters()) {
        INFO(interpreter.label);
        ChildProcess child = start_script(interpreter, "zlib_loop.py");
        const NativeStack stack = sample_until(
            child.pid(), [](const NativeStack& s) { return s.find(in_deflate).has_value(); });
        INFO(stack.text());
        CHECK(stack.result.end == UnwindEnd::Complete);
        const std::size_t deflate = *stack.find(in_deflate);
        CHECK(stack.frames[deflate].role == NativeRole::Other);
        const auto eval = stack.find(is_eval_loop, deflate);
        REQUIRE(eval.has_value());
        CHECK(stack.frames[*eval].name.starts_with("_PyEval_EvalFrameDefault"));
        const auto main = stack.find(is_interpreter_main, *eval);
        REQUIRE(main.has_value());
        CHECK(stack.frames[*main].role == NativeRole::Interpreter);
    }
}

TEST_CASE("native stacks of real interpreters: Python -> qsort -> libffi -> Python",
          "[native][python]") {
    for (const Interpreter& interpreter : available_interpreters()) {
        INFO(interpreter.label);
        ChildProcess child = start_script(interpreter, "qsort_loop.py");
        // The comparison callback's eval loop inside qsort, and the caller's outside it.
        const NativeStack stack = sample_until(child.pid(), [](const NativeStack& s) {
            const auto inner = s.find(is_eval_loop);
            const auto qsort = inner ? s.find(in_qsort, *inner) : std::nullopt;
            return qsort && s.find(is_eval_loop, *qsort).has_value();
        });
        INFO(stack.text());
        CHECK(stack.result.end == UnwindEnd::Complete);
        const std::size_t inner = *stack.find(is_eval_loop);
        const std::size_t qsort = *stack.find(in_qsort, inner);
        const std::size_t outer = *stack.find(is_eval_loop, qsort);
        CHECK(stack.frames[qsort].role == NativeRole::Other);
        const auto ffi = stack.find(
            [](const NativeSymbol& s) { return module_basename(s).starts_with("libffi.so"); },
            inner);
        REQUIRE(ffi.has_value());
        CHECK(*ffi < qsort);
        CHECK(stack.frames[*ffi].role == NativeRole::Other);
        CHECK(stack.find(is_interpreter_main, outer).has_value());
    }
}
