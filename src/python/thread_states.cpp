#include "cpuprof/python/thread_states.hpp"

#include "cpuprof/python/field.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace cpuprof::python {

namespace {

constexpr std::size_t kMaxThreads = 65536;
// glibc keeps `pid_t tid` at this offset of struct pthread on x86_64 (2.26 .. 2.40); it is
// tried first and the whole first 2 KiB are searched when it does not match.
constexpr int kGlibcTidOffset = 0x2d0;
constexpr int kPthreadSearchSpan = 2048;

Offset span_of(const ThreadOffsets& t) {
    Offset end = 0;
    for (Offset o : {t.prev, t.next, t.interp, t.frame, t.cframe, t.current_frame, t.thread_id,
                     t.native_thread_id}) {
        end = std::max(end, o + 8);
    }
    return end;
}

} // namespace

ThreadStateReader::ThreadStateReader(const process::RemoteMemory& memory,
                                     const Interpreter& interpreter)
    : memory_(memory)
    , interpreter_(interpreter)
    , buffer_(static_cast<std::size_t>(span_of(interpreter.offsets.thread))) {}

bool ThreadStateReader::decode(RemoteAddr address,
                               RemoteAddr interp,
                               ThreadState& state,
                               const process::RemoteMemory& via) {
    const auto& t = interpreter_.offsets.thread;
    if (via.read(address, buffer_.data(), buffer_.size()) != 0 ||
        field<RemoteAddr>(buffer_, t.interp) != interp) {
        return false;
    }
    state.address = address;
    state.thread_id = field<std::uint64_t>(buffer_, t.thread_id);
    if (t.native_thread_id >= 0) {
        state.native_id = static_cast<Tid>(field<std::uint64_t>(buffer_, t.native_thread_id));
    } else if (auto it = pthread_tids_.find(state.thread_id); it != pthread_tids_.end()) {
        state.native_id = it->second;
    }
    switch (interpreter_.offsets.frame_model) {
    case FrameModel::FrameObject:
        state.top_frame = field<RemoteAddr>(buffer_, t.frame);
        break;
    case FrameModel::CurrentFrame:
        state.top_frame = field<RemoteAddr>(buffer_, t.current_frame);
        break;
    case FrameModel::CFrame: {
        const RemoteAddr cframe = field<RemoteAddr>(buffer_, t.cframe);
        state.cframe = cframe;
        state.top_frame = 0;
        if (cframe != 0 && !via.try_read(cframe + static_cast<RemoteAddr>(
                                                      interpreter_.offsets.cframe.current_frame),
                                         state.top_frame)) {
            return false;
        }
        break;
    }
    }
    return true;
}

bool ThreadStateReader::list(RemoteAddr interp, std::vector<ThreadState>& out) {
    out.clear();
    RemoteAddr head = 0;
    if (!memory_.try_read(
            interp + static_cast<RemoteAddr>(interpreter_.offsets.interp.threads_head), head)) {
        return false;
    }
    for (RemoteAddr address = head; address != 0 && out.size() < kMaxThreads;) {
        if (std::any_of(out.begin(), out.end(), [&](auto& s) { return s.address == address; })) {
            return false; // a cycle: the list changed under us
        }
        ThreadState state;
        if (!decode(address, interp, state, memory_)) {
            return false;
        }
        out.push_back(state);
        address = field<RemoteAddr>(buffer_, interpreter_.offsets.thread.next);
    }
    return true;
}

bool ThreadStateReader::refresh(RemoteAddr interp,
                                ThreadState& state,
                                const process::RemoteMemory& via) {
    return decode(state.address, interp, state, via);
}

RemoteAddr ThreadStateReader::top_frame_slot(const ThreadState& state) const noexcept {
    const auto& o = interpreter_.offsets;
    switch (o.frame_model) {
    case FrameModel::FrameObject:
        return state.address + static_cast<RemoteAddr>(o.thread.frame);
    case FrameModel::CurrentFrame:
        return state.address + static_cast<RemoteAddr>(o.thread.current_frame);
    case FrameModel::CFrame:
        return state.cframe == 0 ? 0
                                 : state.cframe + static_cast<RemoteAddr>(o.cframe.current_frame);
    }
    return 0;
}

bool ThreadStateReader::top_frame_unchanged(const ThreadState& state) {
    const RemoteAddr where = top_frame_slot(state);
    if (where == 0) {
        return state.top_frame == 0;
    }
    RemoteAddr top = 0;
    return memory_.try_read(where, top) && top == state.top_frame;
}

RemoteAddr ThreadStateReader::gil_address(RemoteAddr interp) {
    const auto& o = interpreter_.offsets;
    if (o.gil_model == GilModel::RuntimeTstateCurrent) {
        return interpreter_.runtime + static_cast<RemoteAddr>(o.runtime.tstate_current);
    }
    if (gil_state_ == 0 &&
        !memory_.try_read(interp + static_cast<RemoteAddr>(o.interp.ceval_gil), gil_state_)) {
        return 0;
    }
    return gil_state_ == 0
               ? 0
               : gil_state_ + static_cast<RemoteAddr>(std::min(o.gil.last_holder, o.gil.locked));
}

RemoteAddr ThreadStateReader::gil_holder(RemoteAddr interp, const process::RemoteMemory* via) {
    const process::RemoteMemory& memory = via != nullptr ? *via : memory_;
    const auto& o = interpreter_.offsets;
    if (o.gil_model == GilModel::RuntimeTstateCurrent) {
        RemoteAddr holder = 0;
        (void)memory.try_read(
            interpreter_.runtime + static_cast<RemoteAddr>(o.runtime.tstate_current), holder);
        return holder;
    }
    if (gil_state_ == 0 &&
        !memory_.try_read(interp + static_cast<RemoteAddr>(o.interp.ceval_gil), gil_state_)) {
        return 0;
    }
    // last_holder and locked are neighbours: one read covers both.
    const Offset lo = std::min(o.gil.last_holder, o.gil.locked);
    const Offset hi = std::max(o.gil.last_holder, o.gil.locked) + 8;
    std::array<std::byte, 64> raw{};
    if (gil_state_ == 0 || hi - lo > static_cast<Offset>(raw.size()) ||
        memory.read(gil_state_ + static_cast<RemoteAddr>(lo), raw.data(),
                    static_cast<std::size_t>(hi - lo)) != 0) {
        return 0;
    }
    std::int32_t locked = 0;
    RemoteAddr holder = 0;
    std::memcpy(&locked, raw.data() + (o.gil.locked - lo), sizeof locked);
    std::memcpy(&holder, raw.data() + (o.gil.last_holder - lo), sizeof holder);
    return locked != 0 ? holder : 0;
}

void ThreadStateReader::resolve_native_ids(std::vector<ThreadState>& states,
                                           const std::vector<Tid>& tids) {
    if (interpreter_.offsets.thread.native_thread_id >= 0 || states.empty()) {
        return;
    }
    auto tid_at = [&](std::uint64_t pthread, int offset) -> Tid {
        std::int32_t tid = 0;
        if (pthread == 0 || !memory_.try_read(pthread + static_cast<RemoteAddr>(offset), tid)) {
            return 0;
        }
        return std::binary_search(tids.begin(), tids.end(), tid) ? tid : 0;
    };
    auto offset_fits = [&](int offset) {
        std::vector<Tid> seen;
        for (const auto& s : states) {
            Tid tid = tid_at(s.thread_id, offset);
            if (tid == 0 || std::find(seen.begin(), seen.end(), tid) != seen.end()) {
                return false;
            }
            seen.push_back(tid);
        }
        return true;
    };
    if (pthread_tid_offset_ < 0 || !offset_fits(pthread_tid_offset_)) {
        pthread_tid_offset_ = -1;
        if (offset_fits(kGlibcTidOffset)) {
            pthread_tid_offset_ = kGlibcTidOffset;
        } else {
            for (int offset = 0; offset < kPthreadSearchSpan; offset += 4) {
                if (offset_fits(offset)) {
                    pthread_tid_offset_ = offset;
                    break;
                }
            }
        }
    }
    if (pthread_tid_offset_ < 0) {
        return;
    }
    for (auto& s : states) {
        if (s.native_id == 0) {
            s.native_id = tid_at(s.thread_id, pthread_tid_offset_);
            if (s.native_id != 0) {
                pthread_tids_[s.thread_id] = s.native_id;
            }
        }
    }
}

} // namespace cpuprof::python
