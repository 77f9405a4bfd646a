#include "cpuprof/native/symbolizer.hpp"

#include "cpuprof/error.hpp"
#include "cpuprof/native/frame_role.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <cxxabi.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <string_view>
#include <sys/stat.h>
#include <unistd.h>

namespace cpuprof::native {

namespace {

// Opens each module's file as the target sees it, through /proc/PID/root: inside a container
// (another mount namespace) the path in the target's maps means nothing on the host. Falls back
// to the standard callback, which opens the path as is and reads the vDSO and deleted files from
// the target's memory. The root arrives through the module's userdata, set after each report.
int find_elf_in_target_root(Dwfl_Module* module,
                            void** userdata,
                            const char* module_name,
                            Dwarf_Addr base,
                            char** file_name,
                            Elf** elf) {
    const auto* root = static_cast<const std::string*>(*userdata);
    if (root != nullptr && module_name[0] == '/') {
        const std::string path = *root + module_name;
        struct stat st {};
        // Only regular files: device mappings can hang on open.
        if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
            const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd >= 0) {
                *file_name = ::strdup(path.c_str());
                if (*file_name == nullptr) {
                    ::close(fd);
                    return -1;
                }
                return fd; // libdwfl owns and closes it
            }
        }
    }
    return dwfl_linux_proc_find_elf(module, userdata, module_name, base, file_name, elf);
}

// NULL selects elfutils' default search path (/usr/lib/debug, build-id links, .debug dirs).
char* g_debuginfo_path = nullptr;

const Dwfl_Callbacks kCallbacks{
    .find_elf = find_elf_in_target_root,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = nullptr,
    .debuginfo_path = &g_debuginfo_path,
};

int set_module_userdata(Dwfl_Module* /*module*/,
                        void** userdata,
                        const char* /*name*/,
                        Dwarf_Addr /*start*/,
                        void* root) {
    *userdata = root;
    return DWARF_CB_OK;
}

// C++ names demangled; ELF symbol versions ("__libc_start_main@@GLIBC_2.34") dropped, as they
// only split one function into several profile entries.
std::string readable_name(const char* name) {
    std::string base(name);
    if (const auto at = base.find('@'); at != std::string::npos && at > 0) {
        base.resize(at);
    }
    if (base.starts_with("_Z")) {
        int status = 0;
        std::unique_ptr<char, decltype(&std::free)> plain(
            abi::__cxa_demangle(base.c_str(), nullptr, nullptr, &status), &std::free);
        if (status == 0 && plain) {
            return plain.get();
        }
    }
    return base;
}

std::string_view basename_of(std::string_view path) {
    const auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// libdwfl names the vDSO "[vdso: PID]"; the pid adds nothing for a reader.
std::string module_display_name(const char* name) {
    if (name == nullptr) {
        return "?";
    }
    if (std::string_view(name).starts_with("[vdso")) {
        return "[vdso]";
    }
    return name;
}

} // namespace

void Symbolizer::DwflDeleter::operator()(Dwfl* dwfl) const noexcept {
    dwfl_end(dwfl);
}

Symbolizer::Symbolizer(Pid pid, std::chrono::milliseconds reload_interval)
    : pid_(pid)
    , reload_interval_(reload_interval)
    , target_root_(std::make_unique<std::string>(fmt::format("/proc/{}/root", pid)))
    , dwfl_(dwfl_begin(&kCallbacks)) {
    if (!dwfl_) {
        throw Error(fmt::format("elfutils could not start a symbol session for pid {}: {}", pid,
                                dwfl_errmsg(-1)));
    }
    const int err = [this] {
        dwfl_report_begin(dwfl_.get());
        const int rc = dwfl_linux_proc_report(dwfl_.get(), pid_);
        dwfl_report_end(dwfl_.get(), nullptr, nullptr);
        return rc;
    }();
    if (err == EACCES || err == EPERM) {
        throw PermissionError(fmt::format("cannot read the memory map of pid {}: {}; run cpuprof "
                                          "as root or grant it CAP_SYS_PTRACE",
                                          pid, std::strerror(err)));
    }
    if (err > 0) {
        throw TargetError(fmt::format("cannot read the memory map of pid {}: {}; check that the "
                                      "process still exists",
                                      pid, std::strerror(err)));
    }
    if (err < 0) {
        throw TargetError(
            fmt::format("cannot read the memory map of pid {}: {}", pid, dwfl_errmsg(-1)));
    }
    dwfl_getmodules(dwfl_.get(), set_module_userdata, target_root_.get(), 0);
    maps_reads_ = 1;
    last_maps_read_ = std::chrono::steady_clock::now();
}

Symbolizer::~Symbolizer() = default;
Symbolizer::Symbolizer(Symbolizer&&) noexcept = default;
Symbolizer& Symbolizer::operator=(Symbolizer&&) noexcept = default;

void Symbolizer::reload_maps() {
    report_maps();
}

void Symbolizer::report_maps() {
    // Modules reported again with the same name and range keep their loaded ELF and symbols;
    // the ones missing from the new maps are dropped by dwfl_report_end.
    dwfl_report_begin(dwfl_.get());
    (void)dwfl_linux_proc_report(dwfl_.get(), pid_);
    dwfl_report_end(dwfl_.get(), nullptr, nullptr);
    dwfl_getmodules(dwfl_.get(), set_module_userdata, target_root_.get(), 0);
    ++maps_reads_;
    last_maps_read_ = std::chrono::steady_clock::now();
}

void Symbolizer::trim_cache() {
    if (cache_.size() >= kMaxCachedPcs) {
        cache_.clear();
    }
}

const NativeSymbol& Symbolizer::symbolize(RemoteAddr pc) {
    trim_cache();
    return lookup(pc);
}

void Symbolizer::symbolize(std::span<const RemoteAddr> pcs, std::vector<const NativeSymbol*>& out) {
    trim_cache();
    out.clear();
    for (RemoteAddr pc : pcs) {
        out.push_back(&lookup(pc));
    }
}

const NativeSymbol& Symbolizer::lookup(RemoteAddr pc) {
    auto [it, inserted] = cache_.try_emplace(pc);
    Entry& entry = it->second;
    // A pc outside every module is resolved again once the maps have been re-read: the library
    // it belongs to may have been reported since. Found ones stay as they are.
    const bool unresolved = entry.symbol.module.empty();
    if (inserted && from_known_function(pc, entry.symbol)) {
        entry.maps_generation = maps_reads_;
    } else if (inserted || (unresolved && entry.maps_generation != maps_reads_)) {
        resolve(pc, entry.symbol);
        entry.maps_generation = maps_reads_;
    }
    if (entry.symbol.module.empty() &&
        std::chrono::steady_clock::now() - last_maps_read_ >= reload_interval_) {
        report_maps();
        resolve(pc, entry.symbol);
        entry.maps_generation = maps_reads_;
    }
    return entry.symbol;
}

bool Symbolizer::from_known_function(RemoteAddr pc, NativeSymbol& symbol) const {
    auto it = functions_.upper_bound(pc);
    if (it == functions_.begin()) {
        return false;
    }
    --it;
    if (pc >= it->second.end) {
        return false;
    }
    symbol = it->second.symbol;
    symbol.offset = pc - it->first;
    return true;
}

void Symbolizer::resolve(RemoteAddr pc, NativeSymbol& symbol) {
    Dwfl_Module* module = dwfl_addrmodule(dwfl_.get(), pc);
    Dwarf_Addr start = 0;
    Dwarf_Addr end = 0;
    const char* module_name =
        module == nullptr
            ? nullptr
            : dwfl_module_info(module, nullptr, &start, &end, nullptr, nullptr, nullptr, nullptr);
    // libdwfl's address lookup can hand out the module just below a gap when two modules are
    // adjacent, so the range is checked here: a pc past the module's end is in no module.
    if (module == nullptr || pc < start || pc >= end) {
        symbol = NativeSymbol{.name = fmt::format("{:#x}", pc)};
        return;
    }
    symbol.module = module_display_name(module_name);

    GElf_Off offset = 0;
    GElf_Sym elf_symbol{};
    const char* name =
        dwfl_module_addrinfo(module, pc, &offset, &elf_symbol, nullptr, nullptr, nullptr);
    if (name != nullptr && name[0] != '\0') {
        symbol.name = readable_name(name);
        symbol.offset = offset;
        symbol.has_symbol = true;
        if (elf_symbol.st_size > 0 && offset < elf_symbol.st_size) {
            // libdwfl searches the symbol table for every address it is given; a hot loop
            // inside one big function (the eval loop) yields a new pc on nearly every sample,
            // so remember the function's whole range. Bounded like the pc cache.
            if (functions_.size() >= kMaxCachedPcs) {
                functions_.clear();
            }
            NativeSymbol whole = symbol;
            whole.role = classify_frame(symbol.name, symbol.module);
            functions_.insert_or_assign(pc - offset,
                                        FunctionRange{pc - offset + elf_symbol.st_size, whole});
        }
    } else {
        symbol.offset = pc - start;
        symbol.name = fmt::format("{}+{:#x}", basename_of(symbol.module), symbol.offset);
        symbol.has_symbol = false;
    }
    symbol.role = classify_frame(symbol.name, symbol.module);
}

} // namespace cpuprof::native
