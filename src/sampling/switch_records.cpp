#include "cpuprof/sampling/switch_records.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace cpuprof::sampling {

namespace {

constexpr std::uint64_t kRecord = sizeof(perf_event_header); // a switch record is its header

int open_ring_event(Tid tid) {
    perf_event_attr attr{};
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_SOFTWARE;
    attr.config = PERF_COUNT_SW_DUMMY;
    attr.context_switch = 1;
    attr.exclude_kernel = 1; // allowed at perf_event_paranoid 2 for one's own processes
    attr.exclude_hv = 1;
    return static_cast<int>(
        ::syscall(SYS_perf_event_open, &attr, tid, -1, -1, PERF_FLAG_FD_CLOEXEC));
}

} // namespace

std::optional<bool> SwitchRecords::last_switch(const perf_event_mmap_page& meta,
                                               const std::byte* data) {
    const std::uint64_t size = meta.data_size;
    if (size == 0 || size % kRecord != 0) {
        return std::nullopt;
    }
    // The kernel writes a record, then publishes it by moving data_head past it; the record
    // read is the one before data_head, and data_head unchanged after it means the ring did
    // not come round over it meanwhile.
    for (int attempt = 0; attempt < 3; ++attempt) {
        const std::uint64_t head = __atomic_load_n(&meta.data_head, __ATOMIC_ACQUIRE);
        if (head < kRecord) {
            return std::nullopt;
        }
        perf_event_header header{};
        std::memcpy(&header, data + (head - kRecord) % size, sizeof header);
        std::atomic_thread_fence(std::memory_order_acquire);
        if (__atomic_load_n(&meta.data_head, __ATOMIC_RELAXED) != head) {
            continue;
        }
        if (header.type != PERF_RECORD_SWITCH || header.size != kRecord) {
            return std::nullopt;
        }
        if ((header.misc & PERF_RECORD_MISC_SWITCH_OUT) == 0) {
            return true;
        }
        return (header.misc & PERF_RECORD_MISC_SWITCH_OUT_PREEMPT) != 0;
    }
    return std::nullopt;
}

SwitchRecords::~SwitchRecords() {
    for (auto& [tid, ring] : rings_) {
        ::munmap(ring.map, ring.length);
    }
}

bool SwitchRecords::open(Tid tid) {
    if (rings_.contains(tid)) {
        return true;
    }
    if (failed_.contains(tid)) {
        return false;
    }
    if (auto it = resting_.find(tid); it != resting_.end() && it->second.periods_left > 0) {
        return false;
    }
    const int fd = files_.get(tid, [tid] { return open_ring_event(tid); });
    if (fd < 0) {
        if (!process::ThreadFiles::exhausted()) {
            failed_.insert(tid); // refused by the kernel: asking again would cost a call a tick
        }
        return false;
    }
    // The metadata page and one page of records: 512 switches, where one is all that is read.
    const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    const std::size_t length = 2 * page;
    void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        files_.close(tid);
        failed_.insert(tid);
        return false;
    }
    rings_.emplace(tid, Ring{map, length, std::nullopt});
    return true;
}

void SwitchRecords::set_unswitched(Tid tid, bool on_cpu) {
    if (auto it = rings_.find(tid); it != rings_.end()) {
        it->second.unswitched = on_cpu;
    }
}

std::optional<bool> SwitchRecords::on_cpu(Tid tid) const {
    const auto it = rings_.find(tid);
    if (it == rings_.end()) {
        return std::nullopt;
    }
    const auto& meta = *static_cast<const perf_event_mmap_page*>(it->second.map);
    if (__atomic_load_n(&meta.data_head, __ATOMIC_ACQUIRE) == 0) {
        return it->second.unswitched;
    }
    return last_switch(meta, static_cast<const std::byte*>(it->second.map) + meta.data_offset);
}

void SwitchRecords::unmap(Tid tid) {
    if (auto it = rings_.find(tid); it != rings_.end()) {
        ::munmap(it->second.map, it->second.length);
        rings_.erase(it);
    }
    files_.close(tid);
}

void SwitchRecords::close(Tid tid) {
    unmap(tid);
    failed_.erase(tid);
    resting_.erase(tid);
}

std::vector<std::size_t> SwitchRecords::over_budget(std::span<const std::uint64_t> records,
                                                    std::uint64_t max_records) {
    std::uint64_t total = 0;
    for (const std::uint64_t n : records) {
        total += n;
    }
    std::vector<std::size_t> order(records.size());
    for (std::size_t i = 0; i < order.size(); ++i) {
        order[i] = i;
    }
    std::sort(order.begin(), order.end(),
              [&](std::size_t a, std::size_t b) { return records[a] > records[b]; });
    std::vector<std::size_t> closing;
    for (const std::size_t i : order) {
        if (total <= max_records) {
            break;
        }
        total -= records[i];
        closing.push_back(i);
    }
    return closing;
}

std::size_t SwitchRecords::keep_within(std::uint64_t max_records) {
    for (auto& [tid, rest] : resting_) {
        if (rest.periods_left > 0) {
            --rest.periods_left;
        }
    }
    std::vector<Tid> tids;
    std::vector<std::uint64_t> records;
    tids.reserve(rings_.size());
    records.reserve(rings_.size());
    for (auto& [tid, ring] : rings_) {
        const auto& meta = *static_cast<const perf_event_mmap_page*>(ring.map);
        const std::uint64_t head = __atomic_load_n(&meta.data_head, __ATOMIC_ACQUIRE);
        tids.push_back(tid);
        records.push_back((head - ring.seen_head) / kRecord);
        ring.seen_head = head;
    }
    const auto closing = over_budget(records, max_records);
    for (const std::size_t i : closing) {
        unmap(tids[i]);
        Rest& rest = resting_[tids[i]];
        rest.length =
            rest.length == 0 ? kRestPeriods : std::min(rest.length * 2, 64 * kRestPeriods);
        rest.periods_left = rest.length;
    }
    return closing.size();
}

} // namespace cpuprof::sampling
