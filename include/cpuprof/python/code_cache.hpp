#pragma once

#include "cpuprof/process/remote_memory.hpp"
#include "cpuprof/python/offsets.hpp"
#include "cpuprof/python/thread_stack.hpp"

#include <array>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

namespace cpuprof::python {

/// Code objects decoded once and cached by address. A cached entry is checked against the
/// object's header on every lookup (name, file, line table pointers and first line), so a code
/// object freed and replaced at the same address is decoded again rather than misreported.
/// CodeInfo pointers handed out stay valid for the cache's lifetime.
class CodeCache {
  public:
    CodeCache(const process::RemoteMemory& memory, const PyOffsets& offsets, RemoteAddr code_type);

    /// The code object at `address`, or nullptr when it cannot be read or is not a code object.
    [[nodiscard]] const CodeInfo* get(RemoteAddr address);

    /// The source line for a byte offset into the code object's bytecode.
    [[nodiscard]] static int line_of(const CodeInfo& code, LineTableKind kind, int byte_offset);

    [[nodiscard]] std::size_t size() const noexcept { return infos_.size(); }

    /// Starts a new validation epoch: within one epoch each cached code object is checked
    /// against the target once, later lookups trust it. A frame keeps its code object alive,
    /// so an address can only be reused by another code object after every frame of the old
    /// one is gone; the epoch (the thread-refresh period) bounds how long such reuse can hide.
    void next_epoch() noexcept { ++epoch_; }
    [[nodiscard]] std::uint64_t epoch() const noexcept { return epoch_; }

  private:
    struct Fingerprint {
        RemoteAddr type = 0, name = 0, qualname = 0, filename = 0, line_table = 0;
        std::int32_t first_line = 0;
        bool operator==(const Fingerprint&) const = default;
    };
    struct Entry {
        Fingerprint fingerprint;
        const CodeInfo* info;
        std::uint64_t validated_epoch;
    };
    [[nodiscard]] std::optional<Fingerprint> read_fingerprint(RemoteAddr address);
    [[nodiscard]] const CodeInfo* decode(const Fingerprint& fingerprint);

    const process::RemoteMemory& memory_;
    const PyOffsets& offsets_;
    RemoteAddr code_type_;
    std::vector<std::byte> header_;
    std::deque<CodeInfo> infos_;
    std::unordered_map<RemoteAddr, Entry> entries_;
    std::uint64_t epoch_ = 0;
};

} // namespace cpuprof::python
