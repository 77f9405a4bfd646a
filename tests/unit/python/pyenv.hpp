#pragma once

#include <optional>
#include <string>

namespace cpuprof::test {

/// A CPython installed by pyenv (shared libpython with DWARF), used as ground truth by tests.
struct PyenvPython {
    int minor = 0;
    std::string version; ///< "3.12.1"
    std::string prefix;  ///< $PYENV_ROOT/versions/3.12.1

    [[nodiscard]] std::string executable() const;
    [[nodiscard]] std::string libpython() const;
};

/// The newest default (not free-threaded, not debug) pyenv build of 3.<minor>, if installed.
[[nodiscard]] std::optional<PyenvPython> find_pyenv_python(int minor);

} // namespace cpuprof::test
