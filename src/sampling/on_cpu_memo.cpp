#include "cpuprof/sampling/on_cpu_memo.hpp"

namespace cpuprof::sampling {

std::optional<bool> OnCpuMemo::carried(Tid tid, const Line& now) const {
    const auto it = looks_.find(tid);
    if (it == looks_.end() || it->second.line != now) {
        return std::nullopt;
    }
    return it->second.on_cpu;
}

void OnCpuMemo::record(Tid tid, const Line& before, bool on_cpu) {
    looks_.insert_or_assign(tid, Look{before, on_cpu});
}

std::optional<bool> OnCpuMemo::last(Tid tid) const {
    const auto it = looks_.find(tid);
    return it == looks_.end() ? std::nullopt : std::optional<bool>(it->second.on_cpu);
}

void OnCpuMemo::forget(Tid tid) {
    looks_.erase(tid);
}

} // namespace cpuprof::sampling
