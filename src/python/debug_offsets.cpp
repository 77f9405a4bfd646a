// CPython 3.13 puts a table of its own struct offsets (`_Py_DebugOffsets`) at the start of
// _PyRuntime. It is read from the target and trusted only after validation, because the memory is
// the target's and a patch release may move fields the static table still has at the old place.
#include "cpuprof/python/debug_offsets.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <initializer_list>
#include <system_error>
#include <vector>

namespace cpuprof::python {

namespace {

constexpr char kCookie[8] = {'x', 'd', 'e', 'b', 'u', 'g', 'p', 'y'};
constexpr std::uint64_t kMaxStructSize = 1U << 20;
constexpr std::size_t kHeaderSize = 24; // cookie, version, free_threaded
constexpr int kLayoutMinor = 13;

// Include/internal/pycore_runtime.h of 3.13; every member is a uint64_t.
struct Layout313 {
    char cookie[8];
    std::uint64_t version;
    std::uint64_t free_threaded;
    struct {
        std::uint64_t size, finalizing, interpreters_head;
    } runtime_state;
    struct {
        std::uint64_t size, id, next, threads_head, gc, imports_modules, sysdict, builtins,
            ceval_gil, gil_runtime_state, gil_runtime_state_enabled, gil_runtime_state_locked,
            gil_runtime_state_holder;
    } interpreter_state;
    struct {
        std::uint64_t size, prev, next, interp, current_frame, thread_id, native_thread_id,
            datastack_chunk, status;
    } thread_state;
    struct {
        std::uint64_t size, previous, executable, instr_ptr, localsplus, owner;
    } interpreter_frame;
    struct {
        std::uint64_t size, filename, name, qualname, linetable, firstlineno, argcount,
            localsplusnames, localspluskinds, co_code_adaptive;
    } code_object;
    struct {
        std::uint64_t size, ob_type;
    } pyobject;
    struct {
        std::uint64_t size, tp_name, tp_repr, tp_flags;
    } type_object;
    struct {
        std::uint64_t size, ob_item, ob_size;
    } tuple_object, list_object;
    struct {
        std::uint64_t size, ma_keys, ma_values;
    } dict_object;
    struct {
        std::uint64_t size, ob_fval;
    } float_object;
    struct {
        std::uint64_t size, lv_tag, ob_digit;
    } long_object;
    struct {
        std::uint64_t size, ob_size, ob_sval;
    } bytes_object;
    struct {
        std::uint64_t size, state, length, asciiobject_size;
    } unicode_object;
    struct {
        std::uint64_t size, collecting;
    } gc;
};
static_assert(sizeof(Layout313) == 584, "_Py_DebugOffsets of 3.13 is 73 words");

// Widths of the fields cpuprof reads, as declared in the 3.13 headers.
constexpr std::uint64_t kPointer = 8;
constexpr std::uint64_t kInt = 4;
constexpr std::uint64_t kChar = 1;

struct Field {
    const char* name;
    std::uint64_t offset;
    std::uint64_t width;
};

struct Group {
    const char* name;
    std::uint64_t size;
    std::initializer_list<Field> fields;
};

// Returns why the block cannot be trusted, or an empty string.
std::string check_groups(std::initializer_list<Group> groups) {
    for (const auto& group : groups) {
        if (group.size == 0 || group.size > kMaxStructSize) {
            return fmt::format("_Py_DebugOffsets gives {} a size of {} bytes (allowed: 1 to {})",
                               group.name, group.size, kMaxStructSize);
        }
        for (const auto& field : group.fields) {
            if (field.offset > group.size || field.width > group.size - field.offset) {
                return fmt::format("_Py_DebugOffsets puts {}.{} at offset {} (+{} bytes), outside "
                                   "the {}-byte struct",
                                   group.name, field.name, field.offset, field.width, group.size);
            }
        }
    }
    return {};
}

std::string validate(const Layout313& d) {
    const auto& interp = d.interpreter_state;
    auto problem = check_groups({
        {"runtime_state",
         d.runtime_state.size,
         {{"interpreters_head", d.runtime_state.interpreters_head, kPointer}}},
        {"interpreter_state",
         interp.size,
         {{"id", interp.id, sizeof(std::int64_t)},
          {"next", interp.next, kPointer},
          {"threads_head", interp.threads_head, kPointer},
          {"imports_modules", interp.imports_modules, kPointer},
          {"ceval_gil", interp.ceval_gil, kPointer},
          {"gil_runtime_state_locked", interp.gil_runtime_state_locked, kInt},
          {"gil_runtime_state_holder", interp.gil_runtime_state_holder, kPointer}}},
        {"thread_state",
         d.thread_state.size,
         {{"prev", d.thread_state.prev, kPointer},
          {"next", d.thread_state.next, kPointer},
          {"interp", d.thread_state.interp, kPointer},
          {"current_frame", d.thread_state.current_frame, kPointer},
          {"thread_id", d.thread_state.thread_id, kPointer},
          {"native_thread_id", d.thread_state.native_thread_id, kPointer}}},
        {"interpreter_frame",
         d.interpreter_frame.size,
         {{"previous", d.interpreter_frame.previous, kPointer},
          {"executable", d.interpreter_frame.executable, kPointer},
          {"instr_ptr", d.interpreter_frame.instr_ptr, kPointer},
          {"owner", d.interpreter_frame.owner, kChar}}},
        {"code_object",
         d.code_object.size,
         {{"filename", d.code_object.filename, kPointer},
          {"name", d.code_object.name, kPointer},
          {"qualname", d.code_object.qualname, kPointer},
          {"linetable", d.code_object.linetable, kPointer},
          {"firstlineno", d.code_object.firstlineno, kInt},
          {"co_code_adaptive", d.code_object.co_code_adaptive, kChar}}},
        {"pyobject", d.pyobject.size, {{"ob_type", d.pyobject.ob_type, kPointer}}},
        {"type_object",
         d.type_object.size,
         {{"tp_name", d.type_object.tp_name, kPointer},
          {"tp_flags", d.type_object.tp_flags, kPointer}}},
        {"bytes_object",
         d.bytes_object.size,
         {{"ob_size", d.bytes_object.ob_size, kPointer}, {"ob_sval", d.bytes_object.ob_sval, 0}}},
        {"unicode_object",
         d.unicode_object.size,
         {{"state", d.unicode_object.state, kInt},
          {"length", d.unicode_object.length, kPointer},
          {"asciiobject_size", d.unicode_object.asciiobject_size, 0}}},
    });
    if (!problem.empty()) {
        return problem;
    }
    // The GIL fields are given relative to the interpreter; cpuprof wants them relative to the
    // _gil_runtime_state they belong to, so they must lie after its start.
    if (interp.gil_runtime_state_locked < interp.gil_runtime_state ||
        interp.gil_runtime_state_holder < interp.gil_runtime_state) {
        return fmt::format("_Py_DebugOffsets puts the GIL fields (locked {}, holder {}) before "
                           "the GIL state itself ({})",
                           interp.gil_runtime_state_locked, interp.gil_runtime_state_holder,
                           interp.gil_runtime_state);
    }
    return {};
}

Offset to_offset(std::uint64_t value) {
    return static_cast<Offset>(value);
}

Offset round_up_to_word(std::uint64_t value) {
    return to_offset((value + 7) / 8 * 8);
}

PyOffsets apply(const Layout313& d, int minor, const PyOffsets& fallback) {
    PyOffsets out = fallback;
    out.major = 3;
    out.minor = minor;
    out.runtime.interpreters_head = to_offset(d.runtime_state.interpreters_head);

    const auto& interp = d.interpreter_state;
    out.interp.next = to_offset(interp.next);
    out.interp.threads_head = to_offset(interp.threads_head);
    out.interp.id = to_offset(interp.id);
    out.interp.modules = to_offset(interp.imports_modules);
    out.interp.ceval_gil = to_offset(interp.ceval_gil);
    out.gil.last_holder = to_offset(interp.gil_runtime_state_holder - interp.gil_runtime_state);
    out.gil.locked = to_offset(interp.gil_runtime_state_locked - interp.gil_runtime_state);

    const auto& thread = d.thread_state;
    out.thread.prev = to_offset(thread.prev);
    out.thread.next = to_offset(thread.next);
    out.thread.interp = to_offset(thread.interp);
    out.thread.current_frame = to_offset(thread.current_frame);
    out.thread.thread_id = to_offset(thread.thread_id);
    out.thread.native_thread_id = to_offset(thread.native_thread_id);

    const auto& frame = d.interpreter_frame;
    out.frame.previous = to_offset(frame.previous);
    out.frame.code = to_offset(frame.executable);
    out.frame.instr_ptr = to_offset(frame.instr_ptr);
    out.frame.owner = to_offset(frame.owner);
    out.frame.size =
        round_up_to_word(std::max({frame.previous + kPointer, frame.executable + kPointer,
                                   frame.instr_ptr + kPointer, frame.owner + kChar}));

    const auto& code = d.code_object;
    out.code.filename = to_offset(code.filename);
    out.code.name = to_offset(code.name);
    out.code.qualname = to_offset(code.qualname);
    out.code.firstlineno = to_offset(code.firstlineno);
    out.code.linetable = to_offset(code.linetable);
    out.code.code_adaptive = to_offset(code.co_code_adaptive);
    out.code.size = round_up_to_word(std::max(
        {code.filename + kPointer, code.name + kPointer, code.qualname + kPointer,
         code.linetable + kPointer, code.firstlineno + kInt, code.co_code_adaptive + kChar}));

    out.object.ob_type = to_offset(d.pyobject.ob_type);
    out.object.tp_name = to_offset(d.type_object.tp_name);
    out.object.tp_flags = to_offset(d.type_object.tp_flags);
    out.object.bytes_size = to_offset(d.bytes_object.ob_size);
    out.object.bytes_data = to_offset(d.bytes_object.ob_sval);

    // The block has sizeof(PyASCIIObject) but not sizeof(PyCompactUnicodeObject). The latter
    // extends the former by fixed fields (utf8_length, utf8), so keep the static distance.
    const Offset compact_extra = fallback.unicode.compact_data - fallback.unicode.ascii_data;
    out.unicode.length = to_offset(d.unicode_object.length);
    out.unicode.state = to_offset(d.unicode_object.state);
    out.unicode.ascii_data = to_offset(d.unicode_object.asciiobject_size);
    out.unicode.compact_data = out.unicode.ascii_data + compact_extra;
    return out;
}

} // namespace

std::size_t debug_offsets_size(int minor) {
    return minor == kLayoutMinor ? sizeof(Layout313) : 0;
}

DebugOffsetsResult parse_debug_offsets(std::span<const std::byte> block,
                                       int expected_minor,
                                       const PyOffsets& fallback) {
    DebugOffsetsResult result;
    if (block.size() < kHeaderSize || std::memcmp(block.data(), kCookie, sizeof kCookie) != 0) {
        result.problem = "_PyRuntime does not start with the _Py_DebugOffsets cookie \"xdebugpy\"";
        return result;
    }
    std::uint64_t free_threaded = 0;
    std::memcpy(&result.version_hex, block.data() + 8, sizeof result.version_hex);
    std::memcpy(&free_threaded, block.data() + 16, sizeof free_threaded);
    result.free_threaded = free_threaded != 0;

    const auto version = version_from_hex(result.version_hex);
    if (!version) {
        result.problem = fmt::format("_Py_DebugOffsets carries version word {:#x}, which is not a "
                                     "CPython version",
                                     result.version_hex);
        return result;
    }
    if (version->major != 3 || version->minor != expected_minor) {
        result.problem = fmt::format("_Py_DebugOffsets is for Python {} but the interpreter was "
                                     "identified as 3.{}",
                                     version->str(), expected_minor);
        return result;
    }
    if (result.free_threaded) {
        result.problem = fmt::format("Python {} is a free-threaded build (3.{}t), which cpuprof "
                                     "does not support; profile a default build",
                                     version->str(), expected_minor);
        return result;
    }
    const std::size_t size = debug_offsets_size(expected_minor);
    if (size == 0) {
        result.problem =
            fmt::format("no _Py_DebugOffsets layout is known for Python {}", version->str());
        return result;
    }
    if (block.size() < size) {
        result.problem = fmt::format("_Py_DebugOffsets block is {} bytes, {} expected for 3.{}",
                                     block.size(), size, expected_minor);
        return result;
    }
    Layout313 layout;
    std::memcpy(&layout, block.data(), sizeof layout);
    result.problem = validate(layout);
    if (result.problem.empty()) {
        result.offsets = apply(layout, expected_minor, fallback);
    }
    return result;
}

DebugOffsetsResult load_debug_offsets(const process::RemoteMemory& memory,
                                      RemoteAddr runtime_address,
                                      int expected_minor,
                                      const PyOffsets& fallback) {
    const std::size_t size = debug_offsets_size(expected_minor);
    if (size == 0) {
        DebugOffsetsResult result;
        result.problem =
            fmt::format("no _Py_DebugOffsets layout is known for Python 3.{}", expected_minor);
        return result;
    }
    std::vector<std::byte> block(size);
    if (int err = memory.read(runtime_address, block.data(), block.size()); err != 0) {
        DebugOffsetsResult result;
        result.problem =
            fmt::format("cannot read _Py_DebugOffsets at {:#x} in pid {}: {}", runtime_address,
                        memory.pid(), std::system_category().message(err));
        return result;
    }
    return parse_debug_offsets(block, expected_minor, fallback);
}

} // namespace cpuprof::python
