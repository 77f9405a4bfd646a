#include "cpuprof/python/thread_names.hpp"

#include "cpuprof/python/remote_dict.hpp"
#include "cpuprof/python/remote_object.hpp"
#include "cpuprof/python/unicode.hpp"

#include <array>
#include <optional>
#include <string_view>

namespace cpuprof::python {

namespace {

constexpr std::string_view kThreadingModule = "threading";
constexpr std::string_view kActive = "_active"; // {ident: Thread} of every started thread
constexpr std::string_view kMainThread = "_main_thread";
constexpr std::string_view kName = "_name";   // Thread.name is a property over it
constexpr std::string_view kIdent = "_ident"; // None until the thread has started

RemoteAddr at(RemoteAddr base, Offset offset) {
    return base + static_cast<RemoteAddr>(offset);
}

/// True when the type of `object` is named "int" (an unstarted thread's _ident is None).
bool is_int(const process::RemoteMemory& memory, const PyOffsets& offsets, RemoteAddr object) {
    RemoteAddr type = 0;
    RemoteAddr type_name = 0;
    std::array<char, 4> text{};
    return object != 0 && memory.try_read(at(object, offsets.object.ob_type), type) &&
           memory.try_read(at(type, offsets.object.tp_name), type_name) &&
           memory.read(type_name, text.data(), text.size()) == 0 &&
           std::string_view(text.data(), text.size()) == std::string_view("int", 4);
}

std::optional<std::string>
thread_name(const process::RemoteMemory& memory, const PyOffsets& offsets, RemoteAddr thread) {
    const RemoteAddr name = instance_attribute(memory, offsets, thread, kName);
    if (name == 0) {
        return std::nullopt;
    }
    return read_unicode(memory, offsets, name);
}

/// The `_active` and `_main_thread` globals of the threading module (0 when absent).
std::optional<std::array<RemoteAddr, 2>> threading_globals(const process::RemoteMemory& memory,
                                                           const PyOffsets& offsets,
                                                           RemoteAddr interp) {
    RemoteAddr modules = 0;
    if (interp == 0 || offsets.interp.modules < 0 || offsets.module.md_dict < 0 ||
        !memory.try_read(at(interp, offsets.interp.modules), modules)) {
        return std::nullopt;
    }
    const RemoteAddr threading = dict_get_str(memory, offsets, modules, kThreadingModule);
    RemoteAddr globals = 0;
    if (threading == 0 || !memory.try_read(at(threading, offsets.module.md_dict), globals)) {
        return std::nullopt;
    }
    const auto storage = dict_storage(memory, offsets, globals);
    if (!storage) {
        return std::nullopt;
    }
    constexpr std::array<std::string_view, 2> kWanted = {kActive, kMainThread};
    const auto found = find_str_keys(memory, offsets, *storage, kWanted);
    if (!found) {
        return std::nullopt;
    }
    return std::array<RemoteAddr, 2>{(*found)[0], (*found)[1]};
}

} // namespace

ThreadNames read_thread_names(const process::RemoteMemory& memory,
                              const Interpreter& interpreter,
                              RemoteAddr interp) {
    ThreadNames names;
    const auto& offsets = interpreter.offsets;
    const auto globals = threading_globals(memory, offsets, interp);
    if (!globals) {
        return names;
    }
    const auto [active, main_thread] = *globals;
    if (const auto threads = dict_storage(memory, offsets, active)) {
        for_each_item(memory, offsets, *threads, [&](const DictItem& item) {
            const auto ident = read_uint64(memory, offsets, item.key);
            if (ident) {
                if (auto name = thread_name(memory, offsets, item.value)) {
                    names.emplace(*ident, std::move(*name));
                }
            }
            return names.size() < kMaxThreadNames;
        });
    }
    // _main_thread is normally in _active as well; reading it on its own keeps the main thread
    // named while _active is being rebuilt (threading's after-fork hook clears and refills it).
    if (main_thread != 0 && names.size() < kMaxThreadNames) {
        const RemoteAddr ident_object = instance_attribute(memory, offsets, main_thread, kIdent);
        if (is_int(memory, offsets, ident_object)) {
            const auto ident = read_uint64(memory, offsets, ident_object);
            if (ident && !names.contains(*ident)) {
                if (auto name = thread_name(memory, offsets, main_thread)) {
                    names.emplace(*ident, std::move(*name));
                }
            }
        }
    }
    return names;
}

} // namespace cpuprof::python
