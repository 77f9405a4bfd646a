#include "cpuprof/python/interpreter.hpp"

#include "cpuprof/process/elf_image.hpp"
#include "cpuprof/process/proc_files.hpp"
#include "cpuprof/python/debug_offsets.hpp"
#include "cpuprof/python/runtime_scan.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>
#include <optional>
#include <string_view>

namespace cpuprof::python {

namespace {

struct Candidate {
    std::string path;      ///< as the target sees it
    std::string open_path; ///< how cpuprof opens it (through /proc/PID/root or /proc/PID/exe)
    RemoteAddr load_start = 0;
};

/// ".../libpython3.12.so", ".../libpython3.9d.so.1.0" (a map of `path` is a libpython).
bool is_libpython(const std::string& path) {
    const auto slash = path.rfind('/');
    std::string_view name =
        std::string_view(path).substr(slash == std::string::npos ? 0 : slash + 1);
    constexpr std::string_view kPrefix = "libpython3.";
    if (!name.starts_with(kPrefix)) {
        return false;
    }
    name.remove_prefix(kPrefix.size());
    std::size_t digits = 0;
    while (digits < name.size() && std::isdigit(static_cast<unsigned char>(name[digits])) != 0) {
        ++digits;
    }
    if (digits == 0) {
        return false;
    }
    name.remove_prefix(digits);
    while (!name.empty() && std::islower(static_cast<unsigned char>(name.front())) != 0 &&
           !name.starts_with(".so")) {
        name.remove_prefix(1); // ABI flags: d, m, t ...
    }
    return name == ".so" || name.starts_with(".so.");
}

std::vector<Candidate>
candidates(Pid pid, const std::vector<process::MemoryMap>& maps, const std::string& exe) {
    std::vector<Candidate> out;
    for (const auto& map : maps) {
        if (is_libpython(map.path) &&
            std::none_of(out.begin(), out.end(), [&](auto& c) { return c.path == map.path; })) {
            if (auto start = process::load_start(maps, map.path)) {
                out.push_back({map.path, fmt::format("/proc/{}/root{}", pid, map.path), *start});
            }
        }
    }
    if (auto start = process::load_start(maps, exe)) {
        out.push_back({exe, fmt::format("/proc/{}/exe", pid), *start});
    }
    return out;
}

std::optional<PythonVersion> detect_version(const process::RemoteMemory& memory,
                                            const process::ElfImage& elf,
                                            RemoteAddr bias,
                                            const Candidate& candidate) {
    if (auto addr = elf.symbol("Py_Version")) {
        std::uint64_t hex = 0;
        if (memory.try_read(bias + *addr, hex)) {
            if (auto v = version_from_hex(hex & 0xffffffffULL)) {
                return v;
            }
        }
    }
    auto from_name = version_from_filename(candidate.path);
    if (from_name) {
        // The file name has no micro version: the PY_VERSION literal ("3.9.18") in .rodata does.
        // The linker may merge it into the tail of a longer string (".../versions/3.9.18"), so
        // only require that it is not part of a longer number.
        const std::string_view rodata = elf.section_data(".rodata");
        const std::string prefix = fmt::format("{}.{}.", from_name->major, from_name->minor);
        for (auto pos = rodata.find(prefix); pos != std::string_view::npos;
             pos = rodata.find(prefix, pos + 1)) {
            if (pos > 0 && (std::isdigit(static_cast<unsigned char>(rodata[pos - 1])) != 0 ||
                            rodata[pos - 1] == '.')) {
                continue;
            }
            auto end = rodata.find('\0', pos);
            if (end == std::string_view::npos || end - pos > 12) {
                continue;
            }
            if (auto v = version_from_string(rodata.substr(pos, end - pos));
                v && v->major == from_name->major && v->minor == from_name->minor) {
                return v;
            }
        }
    }
    return from_name;
}

} // namespace

Interpreter locate_interpreter(Pid pid,
                               const process::RemoteMemory& memory,
                               const std::vector<process::MemoryMap>& maps) {
    const std::string exe = process::executable_path(pid);
    for (const auto& candidate : candidates(pid, maps, exe)) {
        auto elf = process::ElfImage::open(candidate.open_path);
        if (!elf) {
            continue;
        }
        const RemoteAddr bias = candidate.load_start - elf->base_vaddr();
        std::optional<RemoteAddr> runtime;
        if (auto sym = elf->symbol("_PyRuntime")) {
            runtime = bias + *sym;
        } else if (auto sec = elf->section(".PyRuntime")) {
            runtime = bias + sec->address;
        }
        auto version = detect_version(memory, *elf, bias, candidate);
        if (!runtime && version) {
            // No symbol and no section (a fully stripped build): look for it in the data.
            if (const PyOffsets* table = static_offsets(version->major, version->minor)) {
                runtime = scan_for_runtime(memory, maps, candidate.path, *table);
            }
        }
        if (!runtime) {
            continue;
        }
        if (!version) {
            throw NotPythonError(fmt::format(
                "process {}: found _PyRuntime in {} but could not tell the Python version "
                "(no Py_Version symbol, no version in the file name)",
                pid, candidate.path));
        }
        const PyOffsets* table = static_offsets(version->major, version->minor);
        if (table == nullptr) {
            throw UnsupportedVersionError(fmt::format(
                "process {} runs Python {}, which cpuprof does not support: it reads CPython "
                "3.8 to 3.13",
                pid, version->str()));
        }
        Interpreter interp;
        interp.version = *version;
        interp.offsets = *table;
        interp.runtime = *runtime;
        interp.binary = candidate.path;
        interp.executable = exe;
        interp.offsets_source =
            fmt::format("static table for {}.{}", version->major, version->minor);
        if (auto code_type = elf->symbol("PyCode_Type")) {
            interp.code_type = bias + *code_type;
        }
        if (version->at_least(3, 13)) {
            auto debug = load_debug_offsets(memory, *runtime, version->minor, *table);
            if (debug.offsets) {
                interp.offsets = *debug.offsets;
                interp.offsets_source = "_Py_DebugOffsets of the target";
            } else if (debug.free_threaded) {
                throw UnsupportedVersionError(fmt::format(
                    "process {} runs a free-threaded Python {} build, which cpuprof does not "
                    "support yet: profile a default (GIL) build",
                    pid, version->str()));
            } else {
                interp.offsets_source = fmt::format("static table ({} rejected: {})",
                                                    "_Py_DebugOffsets", debug.problem);
            }
        }
        return interp;
    }
    std::string looked;
    for (const auto& c : candidates(pid, maps, exe)) {
        looked += (looked.empty() ? "" : ", ") + c.path;
    }
    throw NotPythonError(fmt::format(
        "process {} ({}) is not a Python process: no _PyRuntime symbol or .PyRuntime section in {}",
        pid, exe.empty() ? "unknown executable" : exe,
        looked.empty() ? "its executable or a libpython" : looked));
}

RemoteAddr main_interpreter(const process::RemoteMemory& memory, const Interpreter& interpreter) {
    RemoteAddr head = 0;
    const RemoteAddr where = interpreter.runtime + interpreter.offsets.runtime.interpreters_head;
    if (!memory.try_read(where, head)) {
        throw RemoteReadError(memory.pid(), where, EFAULT, "reading _PyRuntime.interpreters.head");
    }
    if (head == 0) {
        throw InterpreterNotReady(fmt::format(
            "process {}: the Python interpreter is not initialised yet (or is shutting down)",
            memory.pid()));
    }
    return head;
}

} // namespace cpuprof::python
