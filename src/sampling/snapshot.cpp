#include "cpuprof/sampling/snapshot.hpp"

#include "cpuprof/process/ptrace_session.hpp"
#include "cpuprof/python/thread_names.hpp"
#include "cpuprof/sampling/mixed_stack.hpp"

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

namespace {

std::vector<ThreadSnapshot> snapshot(Target& target, int attempts, MixedStackReader* mixed) {
    std::vector<ThreadSnapshot> out;
    if (!target.refresh_threads()) {
        return out;
    }
    auto& reader = target.reader();
    const RemoteAddr gil = reader.gil_holder();
    const auto python_names = python_thread_names(target);
    python::ThreadStack stack;
    std::vector<MixedFrame> mixed_frames;
    for (const auto& state : reader.threads()) {
        ThreadSnapshot snap;
        bool merged = false;
        if (mixed != nullptr && state.native_id != 0) {
            // Held still for the unwind; released at the end of this scope.
            process::ThreadStop stop(target.pid(), state.native_id);
            if (stop.stopped()) {
                reader.read_stack(state, stack, false);
                if (stack.status == python::ReadStatus::Ok) {
                    mixed->read(state.native_id, stack, mixed_frames);
                    merged = true;
                }
            }
        }
        for (int i = 0; !merged && i < attempts; ++i) {
            reader.read_stack(state, stack, true);
            if (stack.status != python::ReadStatus::Torn) {
                break;
            }
        }
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
        if (merged) {
            for (const auto& frame : mixed_frames) {
                if (frame.kind == MixedFrame::Kind::Python) {
                    snap.frames.push_back(to_frame(*frame.python));
                } else if (frame.kind == MixedFrame::Kind::Native) {
                    snap.frames.push_back(
                        {frame.native->name, frame.native->module, 0, profile::FrameKind::Native});
                } else {
                    snap.frames.push_back(
                        {"<unmerged native stack>", "", 0, profile::FrameKind::Marker});
                }
            }
        } else {
            for (const auto& frame : stack.frames) {
                snap.frames.push_back(to_frame(frame));
            }
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

} // namespace

std::vector<ThreadSnapshot> snapshot_threads(Target& target, int attempts) {
    return snapshot(target, attempts, nullptr);
}

std::vector<ThreadSnapshot> snapshot_threads_native(Target& target, bool keep_internal) {
    MixedStackReader mixed(target.pid(), keep_internal);
    return snapshot(target, 1, &mixed);
}

} // namespace cpuprof::sampling
