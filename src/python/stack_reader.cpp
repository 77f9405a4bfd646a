#include "cpuprof/python/stack_reader.hpp"

#include <algorithm>
#include <functional>

namespace cpuprof::python {

StackReader::StackReader(const process::RemoteMemory& memory, Interpreter interpreter)
    : memory_(memory)
    , blocks_(memory)
    , interpreter_(std::make_unique<Interpreter>(std::move(interpreter)))
    , interp_(main_interpreter(memory, *interpreter_))
    , states_(memory, *interpreter_)
    , codes_(blocks_, interpreter_->offsets, interpreter_->code_type)
    , walker_(blocks_, interpreter_->offsets, codes_) {}

bool StackReader::refresh_threads(const std::vector<Tid>& os_tids) {
    std::vector<ThreadState> fresh;
    if (!states_.list(interp_, fresh)) {
        // The head may have been replaced between reads (a thread started or exited): once more.
        RemoteAddr head = 0;
        if (!memory_.try_read(
                interpreter_->runtime +
                    static_cast<RemoteAddr>(interpreter_->offsets.runtime.interpreters_head),
                head) ||
            head == 0 || !states_.list(head, fresh)) {
            return false;
        }
        interp_ = head;
    }
    states_.resolve_native_ids(fresh, os_tids);
    threads_ = std::move(fresh);
    std::erase_if(working_sets_, [&](const auto& entry) {
        return std::none_of(threads_.begin(), threads_.end(),
                            [&](const ThreadState& s) { return s.address == entry.first; });
    });
    codes_.next_epoch();
    return true;
}

void StackReader::take_snapshot(std::span<const std::uint8_t> skip) {
    constexpr RemoteAddr kBlock = process::BlockCache::kMaxBlockSize;
    snapshot_bases_.clear();
    checks_.clear();
    // A thread asleep since it was last seen off a CPU can only have taken the GIL since by
    // running, and then it is not flagged: of the threads flagged, only the last holder may
    // hold it now (asleep in a C call that kept it). An idle service's dozens of threads then
    // cost the batch nothing, and a --gil recording reads one thread's blocks.
    auto wanted = [&](std::size_t i) {
        return skip.size() != threads_.size() || skip[i] == 0 ||
               threads_[i].address == last_holder_;
    };
    if (const RemoteAddr gil = states_.gil_address(interp_); gil != 0) {
        snapshot_bases_.push_back(gil & ~(kBlock - 1));
    }
    for (auto& [address, set] : working_sets_) {
        set.check = kNoCheck; // a thread left out must not keep last tick's check
    }
    for (std::size_t i = 0; i < threads_.size(); ++i) {
        if (!wanted(i)) {
            continue;
        }
        if (auto it = working_sets_.find(threads_[i].address); it != working_sets_.end()) {
            WorkingSet& set = it->second;
            snapshot_bases_.insert(snapshot_bases_.end(), set.blocks.begin(), set.blocks.end());
            if (set.slot != 0 && checks_.size() < process::BlockCache::kMaxTrailing) {
                set.check = checks_.size();
                checks_.push_back({.address = set.slot});
            }
        }
    }
    // After the frame pointers: a word that cannot be read (a thread exiting) ends the batch,
    // and must not leave a check unread.
    thread_words_.assign(thread_word_offset_ ? threads_.size() : 0, kNoCheck);
    if (thread_word_offset_) {
        // The last GIL holder's word first: with more threads than trailing words, the one
        // most likely running still has its own.
        auto watch = [&](std::size_t i) {
            const RemoteAddr tcb = threads_[i].thread_id;
            if (tcb != 0 && wanted(i) && thread_words_[i] == kNoCheck &&
                checks_.size() < process::BlockCache::kMaxTrailing) {
                thread_words_[i] = checks_.size();
                checks_.push_back({.address = tcb + static_cast<RemoteAddr>(*thread_word_offset_)});
            }
        };
        for (std::size_t i = 0; i < threads_.size(); ++i) {
            if (threads_[i].address == last_holder_) {
                watch(i);
            }
        }
        for (std::size_t i = 0; i < threads_.size(); ++i) {
            watch(i);
        }
    }
    blocks_.clear();
    blocks_.prefetch(snapshot_bases_, checks_);
    snapshot_misses_ = blocks_.misses();
    snapshot_ = true;
}

std::optional<std::uint64_t> StackReader::thread_word(const ThreadState& state) const {
    const std::less<const ThreadState*> before;
    if (!snapshot_ || threads_.empty() || before(&state, threads_.data()) ||
        !before(&state, threads_.data() + threads_.size())) {
        return std::nullopt;
    }
    const auto index = static_cast<std::size_t>(&state - threads_.data());
    if (index >= thread_words_.size() || thread_words_[index] >= checks_.size()) {
        return std::nullopt;
    }
    const auto& word = checks_[thread_words_[index]];
    return word.read ? std::optional(word.value) : std::nullopt;
}

RemoteAddr StackReader::gil_holder() {
    last_holder_ = states_.gil_holder(interp_, snapshot_ ? &blocks_ : nullptr);
    return last_holder_;
}

int StackReader::snapshot_verdict(const ThreadState& state, const WorkingSet& set) const {
    if (set.check >= checks_.size()) {
        return -1;
    }
    const auto& check = checks_[set.check];
    if (!check.read || check.address != states_.top_frame_slot(state)) {
        return -1;
    }
    return check.value == state.top_frame ? 1 : 0;
}

void StackReader::read_stack(const ThreadState& state,
                             ThreadStack& out,
                             bool validate,
                             bool from_snapshot) {
    out.tid = state.native_id;
    out.thread_id = state.thread_id;
    out.tstate = state.address;
    out.holds_gil = false;
    ThreadState current = state;
    WorkingSet& set = working_sets_[state.address];
    const bool snapshot = from_snapshot && snapshot_;
    if (snapshot) {
        blocks_.forget_touches();
    } else {
        // The thread state, its frames and (3.11+) the C-stack frame holding the innermost frame
        // pointer mostly sit in the same few blocks sample after sample: one read for them all.
        snapshot_ = false;
        blocks_.clear();
        blocks_.prefetch(set.blocks);
    }
    const bool refreshed = states_.refresh(interp_, current, blocks_);
    if (refreshed) {
        out.status = walker_.walk(current.top_frame, out.frames, out.truncated);
    }
    set.blocks.clear();
    blocks_.touched(set.blocks);
    if (!refreshed) {
        set.slot = 0;
        out.frames.clear();
        out.status = ReadStatus::Failed;
        return;
    }
    set.slot = states_.top_frame_slot(current);
    if (out.status != ReadStatus::Ok || !validate) {
        return;
    }
    // When every block read this tick came from the snapshot's batch (no read of any thread
    // went past it), the batch's own trailing word says whether the frame moved meanwhile.
    const int verdict =
        snapshot && blocks_.misses() == snapshot_misses_ ? snapshot_verdict(current, set) : -1;
    const bool unchanged = verdict >= 0 ? verdict == 1 : states_.top_frame_unchanged(current);
    if (!unchanged) {
        out.status = ReadStatus::Torn;
    }
}

} // namespace cpuprof::python
