#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cpuprof::python {

struct PythonVersion {
    int major = 0;
    int minor = 0;
    int micro = 0;

    auto operator<=>(const PythonVersion&) const = default;
    [[nodiscard]] std::string str() const;
    /// True when the minor versions are equal (the layout of structs is per minor version).
    [[nodiscard]] bool same_minor(int maj, int min) const { return major == maj && minor == min; }
    [[nodiscard]] bool at_least(int maj, int min) const {
        return major > maj || (major == maj && minor >= min);
    }
};

/// Decodes `Py_Version` / PY_VERSION_HEX: major<<24 | minor<<16 | micro<<8 | level<<4 | serial.
[[nodiscard]] std::optional<PythonVersion> version_from_hex(std::uint64_t hex);

/// Finds "3.12.1" style versions at the start of a `Py_GetVersion` string or in a file name such
/// as "libpython3.12.so.1.0" / "python3.11".
[[nodiscard]] std::optional<PythonVersion> version_from_string(std::string_view text);
[[nodiscard]] std::optional<PythonVersion> version_from_filename(std::string_view path);

} // namespace cpuprof::python
