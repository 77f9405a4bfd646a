#include "cpuprof/sampling/mixed_stack.hpp"

namespace cpuprof::sampling {

MixedStackReader::MixedStackReader(Pid pid, bool keep_internal)
    : unwinder_(pid)
    , symbolizer_(pid)
    , keep_internal_(keep_internal) {}

bool MixedStackReader::read(Tid tid,
                            const python::ThreadStack& python,
                            std::vector<MixedFrame>& out) {
    capture(tid);
    return merge(python, out);
}

void MixedStackReader::capture(Tid tid) {
    unwinder_.unwind(tid, pcs_);
}

bool MixedStackReader::merge(const python::ThreadStack& python, std::vector<MixedFrame>& out) {
    out.clear();
    symbolizer_.symbolize(pcs_, symbols_);
    roles_.clear();
    for (const auto* symbol : symbols_) {
        roles_.push_back(symbol->role);
    }
    entries_.clear();
    for (const auto& frame : python.frames) {
        entries_.push_back(frame.is_entry ? 1 : 0);
    }
    const bool agreed = native::merge_stacks(roles_, entries_, keep_internal_, merged_);
    for (const auto& item : merged_) {
        switch (item.kind) {
        case native::MergedItem::Kind::Native:
            out.push_back(
                {MixedFrame::Kind::Native, nullptr, symbols_[item.index], pcs_[item.index]});
            break;
        case native::MergedItem::Kind::Python:
            out.push_back({MixedFrame::Kind::Python, &python.frames[item.index], nullptr});
            break;
        case native::MergedItem::Kind::Unmerged:
            out.push_back({MixedFrame::Kind::Unmerged, nullptr, nullptr});
            break;
        }
    }
    return agreed;
}

} // namespace cpuprof::sampling
