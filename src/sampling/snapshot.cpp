#include "cpuprof/sampling/snapshot.hpp"

#include "cpuprof/python/thread_names.hpp"

#include <algorithm>

namespace cpuprof::sampling {

namespace {

// Read once per snapshot (a few dict walks); without them the OS names still stand.
python::ThreadNames python_thread_names(const Target& target) {
    try {
        const auto& interpreter = target.interpreter();
        return python::read_thread_names(target.memory(), interpreter,
                                         python::main_interpreter(target.memory(), interpreter));
    } catch (const Error&) {
        return {};
    }
}

} // namespace

profile::Frame to_frame(const python::PyFrame& frame, bool with_line) {
    return profile::Frame{frame.code->name, frame.code->filename, with_line ? frame.line : 0,
                          profile::FrameKind::Python};
}

std::vector<ThreadSnapshot> snapshot_threads(Target& target, int attempts) {
    std::vector<ThreadSnapshot> out;
    if (!target.refresh_threads()) {
        return out;
    }
    auto& reader = target.reader();
    const RemoteAddr gil = reader.gil_holder();
    const auto python_names = python_thread_names(target);
    python::ThreadStack stack;
    for (const auto& state : reader.threads()) {
        for (int i = 0; i < attempts; ++i) {
            reader.read_stack(state, stack, true);
            if (stack.status != python::ReadStatus::Torn) {
                break;
            }
        }
        ThreadSnapshot snap;
        snap.tid = state.native_id;
        snap.thread_id = state.thread_id;
        snap.holds_gil = gil != 0 && gil == state.address;
        snap.status = stack.status;
        snap.truncated = stack.truncated;
        if (auto it = python_names.find(state.thread_id); it != python_names.end()) {
            snap.python_name = it->second;
        }
        if (snap.tid != 0) {
            snap.os_name = target.thread_name(snap.tid);
            auto stat = target.thread_stats().read(snap.tid);
            snap.on_cpu = stat && stat->running();
        }
        for (const auto& frame : stack.frames) {
            snap.frames.push_back(to_frame(frame));
        }
        out.push_back(std::move(snap));
    }
    // The thread-state list is newest first; show the main thread (tid == pid) first, then by tid.
    const Pid pid = target.pid();
    std::stable_sort(out.begin(), out.end(), [pid](const auto& a, const auto& b) {
        if ((a.tid == pid) != (b.tid == pid)) {
            return a.tid == pid;
        }
        return a.tid < b.tid;
    });
    return out;
}

} // namespace cpuprof::sampling
