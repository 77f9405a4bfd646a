#include "cpuprof/native/unwinder.hpp"

#include "cpuprof/error.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <fmt/format.h>
#include <libunwind-ptrace.h>
#include <libunwind.h>
#include <sys/uio.h>

namespace cpuprof::native {

namespace {

/// The stack memory of the thread being unwound, read in whole pages with process_vm_readv:
/// libunwind-ptrace reads the stack one word per PTRACE_PEEKDATA, about 80 system calls per
/// sample; this serves the same words from a few page reads.
struct StackPages {
    static constexpr std::size_t kPage = 4096;
    static constexpr std::size_t kPages = 8;
    Pid pid = 0;
    std::array<RemoteAddr, kPages> base{};
    std::array<std::array<std::byte, kPage>, kPages> data{};
    std::size_t used = 0;

    bool read_word(RemoteAddr address, unw_word_t& out) {
        const RemoteAddr page = address & ~static_cast<RemoteAddr>(kPage - 1);
        const std::size_t offset = address - page;
        if (offset + sizeof(unw_word_t) > kPage) {
            return false;
        }
        std::size_t slot = 0;
        while (slot < used && base[slot] != page) {
            ++slot;
        }
        if (slot == used) {
            slot = used < kPages ? used : kPages - 1;
            iovec local{data[slot].data(), kPage};
            iovec remote{reinterpret_cast<void*>(page), kPage};
            if (::process_vm_readv(pid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(kPage)) {
                return false;
            }
            base[slot] = page;
            used = std::max(used, slot + 1);
        }
        std::memcpy(&out, data[slot].data() + offset, sizeof out);
        return true;
    }
};

// The sampler unwinds on one thread at a time; the accessor finds the pages through this.
thread_local StackPages* current_pages = nullptr;

int access_mem(
    unw_addr_space_t space, unw_word_t address, unw_word_t* value, int write, void* arg) {
    if (write == 0 && current_pages != nullptr && current_pages->read_word(address, *value)) {
        return 0;
    }
    // Writes never reach the target in practice (libunwind only writes when asked to change a
    // frame); anything else falls back to ptrace.
    return _UPT_access_mem(space, address, value, write, arg);
}

unw_accessors_t accessors() {
    unw_accessors_t a = _UPT_accessors;
    a.access_mem = access_mem;
    return a;
}

unw_accessors_t kAccessors = accessors();
constexpr std::size_t kUnwindCacheEntries = 8192;

} // namespace

void Unwinder::AddressSpaceDeleter::operator()(unw_addr_space* address_space) const noexcept {
    unw_destroy_addr_space(address_space);
}

Unwinder::Unwinder(Pid pid)
    : pid_(pid)
    , address_space_(unw_create_addr_space(&kAccessors, 0)) {
    if (!address_space_) {
        throw Error(fmt::format("libunwind could not create an address space to unwind pid {}; "
                                "the system is probably out of memory",
                                pid));
    }
    // The unwind rules found for a pc hold for every thread of the target, so they are looked
    // up (ELF + .eh_frame parsing) once and cached. Per-thread caching would skip the signal
    // masking around each cache lookup, but Debian's libunwind is built without it and falls
    // back to the global cache: about 30 sigprocmask calls per sample remain, part of the
    // 10-14 µs an unwind takes here. Without a cache (UNW_CACHE_NONE) every step re-parses
    // .eh_frame: 330 µs per unwind measured (tools/bench/native_unwind_bench.cpp).
    unw_set_caching_policy(address_space_.get(), UNW_CACHE_PER_THREAD);
    // The cache is keyed by exact pc, and a hot loop leaves a different innermost pc on nearly
    // every sample: the default 128 entries miss often, and every miss re-opens and maps the
    // module's ELF file. A few thousand entries hold a hot loop's pcs after warm-up.
    unw_set_cache_size(address_space_.get(), kUnwindCacheEntries, 0);
}

Unwinder::~Unwinder() = default;
Unwinder::Unwinder(Unwinder&&) noexcept = default;
Unwinder& Unwinder::operator=(Unwinder&&) noexcept = default;

UnwindResult Unwinder::unwind(Tid tid, std::vector<RemoteAddr>& pcs, std::size_t max_depth) {
    pcs.clear();
    // One set of pages per sampling thread, reused: no 32 KiB to clear on every sample.
    thread_local StackPages pages;
    pages.pid = tid;
    pages.used = 0;
    current_pages = &pages;
    struct Reset {
        ~Reset() { current_pages = nullptr; }
    } reset;
    void* upt = handle_for(tid);
    if (upt == nullptr) {
        return {0, UnwindEnd::Failed};
    }
    unw_cursor_t cursor;
    if (unw_init_remote(&cursor, address_space_.get(), upt) < 0) {
        return {0, UnwindEnd::Failed};
    }
    unw_word_t previous_pc = 0;
    unw_word_t previous_sp = 0;
    for (;;) {
        if (pcs.size() >= max_depth) {
            return {pcs.size(), UnwindEnd::DepthCap};
        }
        unw_word_t pc = 0;
        unw_word_t sp = 0;
        if (unw_get_reg(&cursor, UNW_REG_IP, &pc) < 0 ||
            unw_get_reg(&cursor, UNW_REG_SP, &sp) < 0) {
            return {pcs.size(), UnwindEnd::Failed};
        }
        if (pc == 0) {
            // The outermost frame's return address is null when the libc start code ends the
            // chain that way rather than through its unwind info.
            return {pcs.size(), pcs.empty() ? UnwindEnd::Failed : UnwindEnd::Complete};
        }
        // Same pc and same stack pointer: a frame repeated, not recursion (which moves sp).
        if (!pcs.empty() && pc == previous_pc && sp == previous_sp) {
            return {pcs.size(), UnwindEnd::Loop};
        }
        // A caller's pc is its return address, which may already belong to the next function
        // when the call was the last instruction (noreturn callees). One byte back is inside the
        // call. After a signal frame this is one byte early too, which still lands in the same
        // function unless the thread was interrupted on its first instruction; telling signal
        // frames apart would cost two more remote reads per frame.
        pcs.push_back(pcs.empty() ? pc : pc - 1);
        previous_pc = pc;
        previous_sp = sp;
        const int step = unw_step(&cursor);
        if (step == 0) {
            return {pcs.size(), UnwindEnd::Complete};
        }
        if (step < 0) {
            return {pcs.size(), UnwindEnd::Failed};
        }
    }
}

void Unwinder::UptDeleter::operator()(void* upt) const noexcept {
    _UPT_destroy(upt);
}

void* Unwinder::handle_for(Tid tid) {
    // Threads come and go; handles of exited ones are dropped wholesale now and then.
    constexpr std::size_t kMaxHandles = 1024;
    auto it = handles_.find(tid);
    if (it != handles_.end()) {
        return it->second.get();
    }
    if (handles_.size() >= kMaxHandles) {
        handles_.clear();
    }
    void* upt = _UPT_create(tid);
    if (upt == nullptr) {
        return nullptr;
    }
    handles_.emplace(tid, std::unique_ptr<void, UptDeleter>(upt));
    return upt;
}

void Unwinder::flush_cache() noexcept {
    unw_flush_cache(address_space_.get(), 0, 0);
}

} // namespace cpuprof::native
