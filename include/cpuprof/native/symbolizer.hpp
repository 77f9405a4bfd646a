#pragma once

#include "cpuprof/native/stack_merge.hpp"
#include "cpuprof/types.hpp"

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

struct Dwfl; // elfutils' session over one process's modules

namespace cpuprof::native {

/// What a native pc resolves to.
struct NativeSymbol {
    /// The demangled function name; `<module basename>+0x<offset>` when the module has no symbol
    /// there; `0x<pc>` when the pc is in no module (JIT code, anonymous memory).
    std::string name;
    std::string module;      ///< path of the module as the target maps it; empty when none
    RemoteAddr offset = 0;   ///< from the symbol's start, or from the module's start if unnamed
    bool has_symbol = false; ///< `name` comes from a symbol table
    NativeRole role = NativeRole::Other;
};

/// Symbolizes pcs of one process with elfutils libdwfl, reading each module's ELF (and separate
/// debug info when installed) through /proc/PID/root so targets in containers resolve too.
/// Results are cached by pc; a pc found inside a module keeps its symbol, so a library unloaded
/// and replaced by another at the same address is not noticed. Not thread-safe.
class Symbolizer {
  public:
    static constexpr std::chrono::milliseconds kDefaultReloadInterval{250};
    /// The cache is emptied when it grows past this many pcs (a bound, not an LRU: rarely hit).
    static constexpr std::size_t kMaxCachedPcs = 1 << 16;

    /// Reports the target's modules from /proc/PID/maps. Throws TargetError when the process is
    /// gone or PermissionError when its maps cannot be read. When a pc falls in no module (a
    /// library loaded since), the maps are re-read, at most once per `reload_interval`.
    explicit Symbolizer(Pid pid,
                        std::chrono::milliseconds reload_interval = kDefaultReloadInterval);
    ~Symbolizer();
    Symbolizer(const Symbolizer&) = delete;
    Symbolizer& operator=(const Symbolizer&) = delete;
    Symbolizer(Symbolizer&&) noexcept;
    Symbolizer& operator=(Symbolizer&&) noexcept;

    /// The symbol of one pc. The reference stays valid until the next call of a non-const member.
    const NativeSymbol& symbolize(RemoteAddr pc);
    /// Symbolizes a stack: `out[i]` is the symbol of `pcs[i]`, valid until the next call of a
    /// non-const member. Reuses the capacity of `out`.
    void symbolize(std::span<const RemoteAddr> pcs, std::vector<const NativeSymbol*>& out);

    /// Re-reads /proc/PID/maps now: libraries loaded since are added, unloaded ones dropped.
    void reload_maps();

    [[nodiscard]] Pid pid() const noexcept { return pid_; }
    [[nodiscard]] std::size_t cached_pcs() const noexcept { return cache_.size(); }
    /// How many times the maps were read (1 after construction).
    [[nodiscard]] std::size_t maps_reads() const noexcept { return maps_reads_; }

  private:
    struct DwflDeleter {
        void operator()(Dwfl* dwfl) const noexcept;
    };
    struct Entry {
        NativeSymbol symbol;
        std::size_t maps_generation = 0; ///< the maps it was resolved against (matters if unnamed)
    };

    struct FunctionRange {
        RemoteAddr end;
        NativeSymbol symbol;
    };
    /// Fills `symbol` from an already resolved function that contains `pc`.
    bool from_known_function(RemoteAddr pc, NativeSymbol& symbol) const;
    void trim_cache();
    const NativeSymbol& lookup(RemoteAddr pc);
    void resolve(RemoteAddr pc, NativeSymbol& symbol);
    void report_maps();

    Pid pid_;
    std::chrono::milliseconds reload_interval_;
    std::chrono::steady_clock::time_point last_maps_read_;
    std::size_t maps_reads_ = 0;
    /// "/proc/PID/root", handed to elfutils' find_elf callback through each module's userdata;
    /// on the heap so it stays put when the Symbolizer moves.
    std::unique_ptr<std::string> target_root_;
    std::unique_ptr<Dwfl, DwflDeleter> dwfl_;
    std::unordered_map<RemoteAddr, Entry> cache_;
    std::map<RemoteAddr, FunctionRange> functions_; ///< by start address
};

} // namespace cpuprof::native
