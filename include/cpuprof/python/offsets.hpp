#pragma once

#include "cpuprof/python/object_offsets.hpp" // Offset, kAbsent, the object layouts
#include "cpuprof/python/version.hpp"

#include <cstdint>

namespace cpuprof::python {

/// How a thread's Python frames are reached and what they are.
enum class FrameModel : std::uint8_t {
    FrameObject,  ///< <=3.10: tstate->frame, a chain of PyFrameObject via f_back
    CFrame,       ///< 3.11, 3.12: tstate->cframe->current_frame, _PyInterpreterFrame chain
    CurrentFrame, ///< 3.13+: tstate->current_frame, _PyInterpreterFrame chain
};

/// How a code object's line table is encoded.
enum class LineTableKind : std::uint8_t {
    Lnotab,    ///< <=3.9 co_lnotab; instruction offsets in bytes
    Linetable, ///< 3.10 co_linetable (PEP 626)
    Locations, ///< 3.11+ co_linetable location table (PEP 657)
};

/// How the GIL holder is found.
enum class GilModel : std::uint8_t {
    RuntimeTstateCurrent, ///< <=3.11: _PyRuntime.gilstate.tstate_current is the holder
    InterpreterGil,       ///< 3.12+: interp->ceval.gil -> _gil_runtime_state {locked, last_holder}
};

struct RuntimeOffsets {
    Offset interpreters_head = kAbsent; ///< _PyRuntimeState.interpreters.head
    Offset tstate_current = kAbsent;    ///< _PyRuntimeState.gilstate.tstate_current (<=3.11)
};

struct InterpreterOffsets {
    Offset next = kAbsent;         ///< PyInterpreterState.next
    Offset threads_head = kAbsent; ///< PyInterpreterState.tstate_head / threads.head
    Offset id = kAbsent;           ///< PyInterpreterState.id
    Offset modules = kAbsent;      ///< sys.modules: interp->modules / interp->imports.modules
    Offset ceval_gil = kAbsent;    ///< 3.12+: interp->ceval.gil (a pointer)
};

/// Fields of struct _gil_runtime_state (3.12+), relative to its start.
struct GilOffsets {
    Offset last_holder = kAbsent;
    Offset locked = kAbsent;
};

struct ThreadOffsets {
    Offset prev = kAbsent;
    Offset next = kAbsent;
    Offset interp = kAbsent;
    Offset frame = kAbsent;            ///< <=3.10: PyFrameObject* frame
    Offset cframe = kAbsent;           ///< 3.11/3.12: _PyCFrame* cframe
    Offset current_frame = kAbsent;    ///< 3.13+: _PyInterpreterFrame* current_frame
    Offset thread_id = kAbsent;        ///< pthread_t of the thread
    Offset native_thread_id = kAbsent; ///< OS tid (3.11+)
};

/// _PyCFrame (3.11/3.12).
struct CFrameOffsets {
    Offset current_frame = kAbsent;
};

/// PyFrameObject (<=3.10) or _PyInterpreterFrame (3.11+).
struct FrameOffsets {
    Offset size = 0;            ///< bytes to read to cover every field below
    Offset previous = kAbsent;  ///< f_back (<=3.10) / previous
    Offset code = kAbsent;      ///< f_code / f_executable (3.13+)
    Offset lasti = kAbsent;     ///< int f_lasti (<=3.10)
    Offset instr_ptr = kAbsent; ///< prev_instr (3.11/3.12) / instr_ptr (3.13+)
    Offset owner = kAbsent;     ///< char owner (3.11+)
    Offset is_entry = kAbsent;  ///< bool is_entry (3.11 only)
};

struct CodeOffsets {
    Offset size = 0; ///< bytes to read to cover every field below
    Offset filename = kAbsent;
    Offset name = kAbsent;
    Offset qualname = kAbsent;      ///< 3.11+
    Offset firstlineno = kAbsent;   ///< int
    Offset linetable = kAbsent;     ///< co_lnotab (<=3.9) / co_linetable (3.10+), a bytes object
    Offset code_adaptive = kAbsent; ///< 3.11+: start of the bytecode inside the code object
};

struct ObjectOffsets {
    Offset ob_type = 8;
    Offset tp_name = 24;       ///< PyTypeObject.tp_name
    Offset tp_flags = kAbsent; ///< PyTypeObject.tp_flags
    Offset bytes_size = 16;    ///< PyVarObject.ob_size of a bytes object
    Offset bytes_data = 32;    ///< PyBytesObject.ob_sval
};

/// PyASCIIObject / PyCompactUnicodeObject.
struct UnicodeOffsets {
    Offset length = 16;
    Offset state = kAbsent;      ///< the state bit field (interned:2, kind:3, compact:1, ascii:1)
    Offset ascii_data = kAbsent; ///< sizeof(PyASCIIObject): data of a compact ASCII string
    Offset compact_data =
        kAbsent; ///< sizeof(PyCompactUnicodeObject): data of other compact strings
};

/// Every offset and rule the walkers need for one CPython minor version.
struct PyOffsets {
    int major = 3;
    int minor = 0;
    FrameModel frame_model = FrameModel::FrameObject;
    LineTableKind line_table = LineTableKind::Lnotab;
    GilModel gil_model = GilModel::RuntimeTstateCurrent;
    /// owner value of shim frames that a C call pushes (3.12+: FRAME_OWNED_BY_CSTACK); -1 if none.
    int shim_owner = -1;
    RuntimeOffsets runtime;
    InterpreterOffsets interp;
    GilOffsets gil;
    ThreadOffsets thread;
    CFrameOffsets cframe;
    FrameOffsets frame;
    CodeOffsets code;
    ObjectOffsets object;
    UnicodeOffsets unicode;
    InstanceDictModel instance_dict = InstanceDictModel::DictOffset;
    DictOffsets dict;
    TypeOffsets type;
    InstanceOffsets instance;
    LongOffsets long_int;
    ModuleOffsets module;
};

/// The static table for a minor version, or nullptr when there is none (3.8–3.13 are known).
[[nodiscard]] const PyOffsets* static_offsets(int major, int minor);

// One table per version, defined in offsets_3_XX.cpp.
extern const PyOffsets kOffsets_3_8;
extern const PyOffsets kOffsets_3_9;
extern const PyOffsets kOffsets_3_10;
extern const PyOffsets kOffsets_3_11;
extern const PyOffsets kOffsets_3_12;
extern const PyOffsets kOffsets_3_13;

} // namespace cpuprof::python
