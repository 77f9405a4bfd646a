#include "cpuprof/native/frame_role.hpp"

#include <catch2/catch.hpp>

using namespace cpuprof::native;

TEST_CASE("eval loop symbols: the loop itself and its compiler-split parts", "[native][role]") {
    CHECK(is_eval_loop_symbol("_PyEval_EvalFrameDefault"));
    CHECK(is_eval_loop_symbol("_PyEval_EvalFrameDefault.cold"));
    CHECK(is_eval_loop_symbol("PyEval_EvalFrameEx"));
    CHECK(is_eval_loop_symbol("_TAIL_CALL_LOAD_ATTR.llvm.10957245931405389385"));

    CHECK_FALSE(is_eval_loop_symbol("_PyEval_EvalFrame")); // the inline wrapper, not the loop
    CHECK_FALSE(is_eval_loop_symbol("_PyEval_EvalFrameDefaultish"));
    CHECK_FALSE(is_eval_loop_symbol("PyEval_EvalCode"));
    CHECK_FALSE(is_eval_loop_symbol("_PyEval_Vector"));
    CHECK_FALSE(is_eval_loop_symbol(""));
}

TEST_CASE("interpreter modules: the python executable and libpython", "[native][role]") {
    CHECK(is_interpreter_module("/root/.pyenv/versions/3.12.1/bin/python3.12"));
    CHECK(is_interpreter_module("/usr/bin/python3.11"));
    CHECK(is_interpreter_module("/opt/py/bin/python3.13d"));
    CHECK(is_interpreter_module("/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0"));

    CHECK_FALSE(is_interpreter_module("/usr/lib/x86_64-linux-gnu/libz.so.1.2.13"));
    CHECK_FALSE(is_interpreter_module("/root/.pyenv/versions/3.12.1/lib/python3.12/lib-dynload/"
                                      "zlib.cpython-312-x86_64-linux-gnu.so"));
    CHECK_FALSE(is_interpreter_module("/site-packages/python_ext.cpython-312-x86_64-linux-gnu.so"));
    CHECK_FALSE(is_interpreter_module("/usr/lib/libpythonish"));
    CHECK_FALSE(is_interpreter_module(""));
}

TEST_CASE("classify_frame combines symbol and module", "[native][role]") {
    const char* libpython = "/root/.pyenv/versions/3.12.1/lib/libpython3.12.so.1.0";
    CHECK(classify_frame("_PyEval_EvalFrameDefault", libpython) == NativeRole::EvalLoop);
    CHECK(classify_frame("_PyEval_EvalFrameDefault", "/usr/bin/python3.11") ==
          NativeRole::EvalLoop);
    CHECK(classify_frame("PyObject_Vectorcall", libpython) == NativeRole::Interpreter);
    CHECK(classify_frame("libpython3.12.so.1.0+0x1234", libpython) == NativeRole::Interpreter);
    CHECK(classify_frame("Py_RunMain", "/usr/bin/python3.11") == NativeRole::Interpreter);
    CHECK(classify_frame("deflate", "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13") ==
          NativeRole::Other);
    CHECK(classify_frame("0x7f0012345678", "") == NativeRole::Other);
}
