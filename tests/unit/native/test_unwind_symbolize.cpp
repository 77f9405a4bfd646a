#include "cpuprof/error.hpp"
#include "cpuprof/native/stack_merge.hpp"
#include "cpuprof/native/symbolizer.hpp"
#include "cpuprof/native/unwinder.hpp"
#include "cpuprof/process/ptrace_session.hpp"
#include "native_test_support.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <climits>
#include <cstdlib>
#include <dlfcn.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fstream>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace cpuprof;
using namespace cpuprof::native;
using namespace cpuprof::test;

namespace {

ChildProcess start_spinner(const std::vector<std::string>& mode) {
    std::vector<std::string> argv{spinner_path(), std::to_string(ChildProcess::kEventFd)};
    argv.insert(argv.end(), mode.begin(), mode.end());
    ChildProcess child = ChildProcess::exec(argv);
    REQUIRE(child.wait_for('R', 10s));
    return child;
}

std::string real_path(const std::string& path) {
    char resolved[PATH_MAX];
    REQUIRE(::realpath(path.c_str(), resolved) != nullptr);
    return resolved;
}

std::string basename_of(const std::string& path) {
    return path.substr(path.rfind('/') + 1);
}

struct Sampled {
    UnwindResult result;
    std::vector<RemoteAddr> pcs;
    std::vector<NativeSymbol> symbols;
    std::vector<std::string> names;
};

Sampled sample(Pid pid, Tid tid) {
    Unwinder unwinder(pid);
    Symbolizer symbolizer(pid);
    Sampled s;
    {
        process::ThreadStop stop(pid, tid);
        REQUIRE(stop.stopped());
        s.result = unwinder.unwind(tid, s.pcs);
    }
    std::vector<const NativeSymbol*> symbols;
    symbolizer.symbolize(s.pcs, symbols);
    for (const NativeSymbol* symbol : symbols) {
        s.symbols.push_back(*symbol);
        s.names.push_back(symbol->name);
    }
    return s;
}

// The target reports ready just before it enters its spin loop; a stop can still land in the
// write(2) before it. Sample until the innermost frame is in `module`.
Sampled sample_in(Pid pid, const std::string& module) {
    Sampled s;
    for (int attempt = 0; attempt < 100; ++attempt) {
        s = sample(pid, pid);
        if (!s.symbols.empty() && s.symbols[0].module == module) {
            break;
        }
    }
    return s;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

} // namespace

TEST_CASE("unwinds and symbolizes a known call chain", "[native][unwind]") {
    ChildProcess child = start_spinner({"busy"});
    const Sampled s = sample_in(child.pid(), real_path(spinner_path()));
    INFO(fmt::format("{}", fmt::join(s.names, " <- ")));
    CHECK(s.result.end == UnwindEnd::Complete);
    CHECK(s.result.depth == s.pcs.size());
    REQUIRE(s.names.size() >= 5);
    CHECK(s.names[0] == "fixture_inner");
    CHECK(s.names[1] == "fixture_middle");
    CHECK(s.names[2] == "fixture_outer");
    CHECK(s.names[3] == "main");
    CHECK(s.symbols[0].module == real_path(spinner_path()));
    CHECK(s.symbols[0].has_symbol);
    CHECK(s.symbols[0].role == NativeRole::Other);
    // main's caller is glibc's start code.
    CHECK(basename_of(s.symbols[4].module).starts_with("libc.so"));
    // Versioned names from a .symtab ("__libc_start_main@@GLIBC_2.34") lose the version.
    for (const auto& name : s.names) {
        CHECK(name.find('@') == std::string::npos);
    }
}

TEST_CASE("unwinds a thread blocked in a system call", "[native][unwind]") {
    ChildProcess child = start_spinner({"threads", "1"});
    const auto tids = thread_ids(child.pid());
    REQUIRE(tids.size() == 2);
    const Tid sleeper = tids[0] == child.pid() ? tids[1] : tids[0];
    const Sampled s = sample(child.pid(), sleeper);
    INFO(fmt::format("{}", fmt::join(s.names, " <- ")));
    CHECK(s.result.end == UnwindEnd::Complete);
    REQUIRE(!s.symbols.empty());
    CHECK(basename_of(s.symbols[0].module).starts_with("libc.so"));
    CHECK(contains(s.names, "fixture_sleeper"));
    CHECK_FALSE(contains(s.names, "main"));
}

TEST_CASE("unwinding stops at the depth cap and reuses the output vector", "[native][unwind]") {
    ChildProcess child = start_spinner({"busy"});
    const Pid pid = child.pid();
    // Once in its loop the spinner never leaves fixture_inner.
    REQUIRE(sample_in(pid, real_path(spinner_path())).names.at(0) == "fixture_inner");
    Unwinder unwinder(pid);
    Symbolizer symbolizer(pid);
    process::ThreadStop stop(pid, pid);
    REQUIRE(stop.stopped());

    std::vector<RemoteAddr> pcs;
    pcs.reserve(Unwinder::kMaxDepth);
    const RemoteAddr* storage = pcs.data();
    const UnwindResult capped = unwinder.unwind(pid, pcs, 2);
    CHECK(capped.end == UnwindEnd::DepthCap);
    REQUIRE(capped.depth == 2);
    CHECK(symbolizer.symbolize(pcs[0]).name == "fixture_inner");
    CHECK(symbolizer.symbolize(pcs[1]).name == "fixture_middle");

    const UnwindResult full = unwinder.unwind(pid, pcs);
    CHECK(full.end == UnwindEnd::Complete);
    CHECK(full.depth > 4);
    CHECK(pcs.data() == storage);
    CHECK(pcs.capacity() == Unwinder::kMaxDepth);
}

TEST_CASE("symbolizes a stripped library by .dynsym, unnamed code by module offset",
          "[native][symbolize]") {
    const std::string library = real_path(fixture_library_path());
    ChildProcess child = start_spinner({"library", library});
    const Sampled s = sample_in(child.pid(), library);
    INFO(fmt::format("{}", fmt::join(s.names, " <- ")));
    REQUIRE(s.names.size() >= 3);
    // The static function it spins in has no symbol anywhere: module + offset.
    CHECK_FALSE(s.symbols[0].has_symbol);
    CHECK(s.symbols[0].module == library);
    CHECK(s.names[0] == fmt::format("{}+{:#x}", basename_of(library), s.symbols[0].offset));
    CHECK(s.names[1] == "cpuprof_fixture_library_spin");
    CHECK(s.symbols[1].has_symbol);
    CHECK(s.names[2] == "main");
}

TEST_CASE("reads the ELF files of a target in another mount namespace through /proc/PID/root",
          "[native][symbolize]") {
    char dir_template[] = "/tmp/cpuprof-native-nsXXXXXX";
    REQUIRE(::mkdtemp(dir_template) != nullptr);
    const std::string dir = dir_template;
    const std::string hidden_library = dir + "/libcpuprof_fixture_lib.so";
    const std::string spinner = spinner_path();
    const std::string library = fixture_library_path();

    // The child mounts a tmpfs over `dir` that only its own mount namespace sees, puts the
    // library there and runs the spinner on it: on the host that path is an empty directory.
    ChildProcess child = ChildProcess::fork([&](int event_fd) {
        if (::unshare(CLONE_NEWNS) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount("tmpfs", dir.c_str(), "tmpfs", 0, nullptr) != 0) {
            return 10;
        }
        {
            std::ifstream in(library, std::ios::binary);
            std::ofstream out(hidden_library, std::ios::binary);
            out << in.rdbuf();
            if (!out) {
                return 11;
            }
        }
        ::fcntl(event_fd, F_SETFD, 0);
        const std::string fd = std::to_string(event_fd);
        const char* argv[] = {spinner.c_str(), fd.c_str(), "library", hidden_library.c_str(),
                              nullptr};
        ::execv(argv[0], const_cast<char* const*>(argv));
        return 12;
    });
    const bool ready = child.wait_for('R', 10s);
    if (!ready) {
        const int status = child.wait();
        ::rmdir(dir.c_str());
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) == 10);
        WARN("skipping: cannot create a mount namespace here (needs CAP_SYS_ADMIN)");
        return;
    }
    CHECK(::access(hidden_library.c_str(), F_OK) != 0);

    const Sampled s = sample_in(child.pid(), hidden_library);
    INFO(fmt::format("{}", fmt::join(s.names, " <- ")));
    child.kill_and_reap();
    ::rmdir(dir.c_str());
    REQUIRE(s.names.size() >= 3);
    CHECK(s.symbols[0].module == hidden_library);
    CHECK(s.names[0].starts_with("libcpuprof_fixture_lib.so+0x"));
    CHECK(s.names[1] == "cpuprof_fixture_library_spin");
    CHECK(s.names[2] == "main");
}

TEST_CASE("symbolizes cpuprof's own functions, demangled", "[native][symbolize]") {
    Symbolizer symbolizer(::getpid());
    const auto address = reinterpret_cast<RemoteAddr>(&merge_stacks);
    const NativeSymbol& symbol = symbolizer.symbolize(address);
    CHECK(symbol.name.starts_with("cpuprof::native::merge_stacks("));
    CHECK(symbol.has_symbol);
    CHECK(symbol.offset == 0);
    CHECK(symbol.module == real_path("/proc/self/exe"));
    CHECK(symbol.role == NativeRole::Other);

    const NativeSymbol& nowhere = symbolizer.symbolize(0x10);
    CHECK(nowhere.name == "0x10");
    CHECK(nowhere.module.empty());
    CHECK_FALSE(nowhere.has_symbol);
}

TEST_CASE("symbols are cached by pc", "[native][symbolize]") {
    Symbolizer symbolizer(::getpid());
    const auto address = reinterpret_cast<RemoteAddr>(&merge_stacks);
    const NativeSymbol* first = &symbolizer.symbolize(address);
    const NativeSymbol* second = &symbolizer.symbolize(address);
    CHECK(first == second);
    CHECK(symbolizer.cached_pcs() == 1);

    std::vector<RemoteAddr> pcs{address, address + 1, address};
    std::vector<const NativeSymbol*> out;
    symbolizer.symbolize(pcs, out);
    REQUIRE(out.size() == 3);
    CHECK(out[0] == first);
    CHECK(out[2] == first);
    CHECK(out[1]->name == first->name);
    CHECK(out[1]->offset == 1);
    CHECK(symbolizer.cached_pcs() == 2);
}

namespace {

// A private copy of the fixture library, dlopened into this process. Private because libelf maps
// the files it reads: a Symbolizer of this very process that read one copy would otherwise see
// that mapping next to the library in the maps and take it for part of the library.
class LoadedLibraryCopy {
  public:
    LoadedLibraryCopy() {
        char dir_template[] = "/tmp/cpuprof-native-libXXXXXX";
        REQUIRE(::mkdtemp(dir_template) != nullptr);
        dir_ = dir_template;
        path_ = dir_ + "/libcpuprof_fixture_copy.so";
        {
            std::ifstream in(fixture_library_path(), std::ios::binary);
            std::ofstream out(path_, std::ios::binary);
            out << in.rdbuf();
        }
        handle_ = ::dlopen(path_.c_str(), RTLD_NOW | RTLD_LOCAL);
        REQUIRE(handle_ != nullptr);
        spin_ = reinterpret_cast<RemoteAddr>(::dlsym(handle_, "cpuprof_fixture_library_spin"));
        REQUIRE(spin_ != 0);
    }
    ~LoadedLibraryCopy() {
        ::dlclose(handle_);
        ::unlink(path_.c_str());
        ::rmdir(dir_.c_str());
    }
    LoadedLibraryCopy(const LoadedLibraryCopy&) = delete;
    LoadedLibraryCopy& operator=(const LoadedLibraryCopy&) = delete;

    [[nodiscard]] const std::string& path() const { return path_; }
    [[nodiscard]] RemoteAddr spin_address() const { return spin_; }

  private:
    std::string dir_;
    std::string path_;
    void* handle_ = nullptr;
    RemoteAddr spin_ = 0;
};

} // namespace

TEST_CASE("a library loaded after the maps were read is found by re-reading them",
          "[native][symbolize]") {
    Symbolizer symbolizer(::getpid(), std::chrono::milliseconds(0));
    const LoadedLibraryCopy library;
    const NativeSymbol& found = symbolizer.symbolize(library.spin_address());
    CHECK(found.name == "cpuprof_fixture_library_spin");
    CHECK(found.module == library.path());
    CHECK(found.offset == 0);
    CHECK(symbolizer.maps_reads() == 2);
}

TEST_CASE("re-reading the maps is rate-limited", "[native][symbolize]") {
    Symbolizer symbolizer(::getpid(), std::chrono::hours(1));
    const LoadedLibraryCopy library;
    const NativeSymbol& not_yet = symbolizer.symbolize(library.spin_address());
    CHECK(not_yet.module.empty());
    CHECK(not_yet.name == fmt::format("{:#x}", library.spin_address()));
    CHECK(symbolizer.maps_reads() == 1);

    symbolizer.reload_maps();
    const NativeSymbol& now = symbolizer.symbolize(library.spin_address());
    CHECK(now.name == "cpuprof_fixture_library_spin");
    CHECK(now.module == library.path());
    CHECK(symbolizer.maps_reads() == 2);
}

TEST_CASE("a Symbolizer for a process that does not exist is a TargetError",
          "[native][symbolize]") {
    ChildProcess gone = ChildProcess::fork([](int) { return 0; });
    const Pid pid = gone.pid();
    gone.wait();
    CHECK_THROWS_AS(Symbolizer(pid), TargetError);
}
