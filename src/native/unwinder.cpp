#include "cpuprof/native/unwinder.hpp"

#include "cpuprof/error.hpp"

#include <fmt/format.h>
#include <libunwind-ptrace.h>
#include <libunwind.h>

namespace cpuprof::native {

namespace {

struct UptDeleter {
    void operator()(void* upt) const noexcept { _UPT_destroy(upt); }
};
// libunwind-ptrace's per-thread state: which thread to read registers and memory from.
using UptHandle = std::unique_ptr<void, UptDeleter>;

} // namespace

void Unwinder::AddressSpaceDeleter::operator()(unw_addr_space* address_space) const noexcept {
    unw_destroy_addr_space(address_space);
}

Unwinder::Unwinder(Pid pid)
    : pid_(pid)
    , address_space_(unw_create_addr_space(&_UPT_accessors, 0)) {
    if (!address_space_) {
        throw Error(fmt::format("libunwind could not create an address space to unwind pid {}; "
                                "the system is probably out of memory",
                                pid));
    }
    // Global: the unwind rules found for a pc hold for every thread of the target, so they are
    // looked up (ELF + .eh_frame parsing) once rather than once per thread or per sample.
    unw_set_caching_policy(address_space_.get(), UNW_CACHE_GLOBAL);
}

Unwinder::~Unwinder() = default;
Unwinder::Unwinder(Unwinder&&) noexcept = default;
Unwinder& Unwinder::operator=(Unwinder&&) noexcept = default;

UnwindResult Unwinder::unwind(Tid tid, std::vector<RemoteAddr>& pcs, std::size_t max_depth) {
    pcs.clear();
    UptHandle upt(_UPT_create(tid));
    if (!upt) {
        return {0, UnwindEnd::Failed};
    }
    unw_cursor_t cursor;
    if (unw_init_remote(&cursor, address_space_.get(), upt.get()) < 0) {
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

void Unwinder::flush_cache() noexcept {
    unw_flush_cache(address_space_.get(), 0, 0);
}

} // namespace cpuprof::native
