// The symbol-less fallback finds the same _PyRuntime as the symbol table, on live interpreters.
#include "pyenv.hpp"

#include "cpuprof/process/elf_image.hpp"
#include "cpuprof/process/proc_maps.hpp"
#include "cpuprof/process/process_memory.hpp"
#include "cpuprof/python/offsets.hpp"
#include "cpuprof/python/runtime_scan.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

using namespace cpuprof;

namespace {

/// A python child that has finished initialising when the constructor returns.
class SleepingPython {
  public:
    explicit SleepingPython(const std::string& exe) {
        int fds[2];
        REQUIRE(::pipe(fds) == 0);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(fds[1], STDOUT_FILENO);
            ::execl(exe.c_str(), exe.c_str(), "-c",
                    "import time; print('ready', flush=True); time.sleep(60)", nullptr);
            ::_exit(127);
        }
        ::close(fds[1]);
        char c = 0;
        REQUIRE(::read(fds[0], &c, 1) == 1);
        ::close(fds[0]);
    }
    ~SleepingPython() {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    SleepingPython(const SleepingPython&) = delete;
    SleepingPython& operator=(const SleepingPython&) = delete;
    [[nodiscard]] pid_t pid() const { return pid_; }

  private:
    pid_t pid_ = 0;
};

} // namespace

TEST_CASE("scanning the data maps finds _PyRuntime where the symbol says", "[python][scan]") {
    int covered = 0;
    for (int minor = 8; minor <= 13; ++minor) {
        auto python = test::find_pyenv_python(minor);
        if (!python) {
            WARN("CPython 3." << minor << " not installed: scan check skipped");
            continue;
        }
        SECTION(python->version) {
            SleepingPython child(python->executable());
            const auto maps = process::read_maps(child.pid());
            auto elf = process::ElfImage::open(python->libpython());
            REQUIRE(elf);
            const auto symbol = elf->symbol("_PyRuntime");
            REQUIRE(symbol);
            std::optional<RemoteAddr> start;
            for (const auto& m : maps) {
                if (m.path == python->libpython() && m.offset == 0 &&
                    (!start || m.start < *start)) {
                    start = m.start;
                }
            }
            REQUIRE(start);
            const RemoteAddr expected = *start - elf->base_vaddr() + *symbol;
            process::ProcessMemory memory(child.pid());
            const auto* table = python::static_offsets(3, minor);
            REQUIRE(table != nullptr);
            const auto found = python::scan_for_runtime(memory, maps, python->libpython(), *table);
            REQUIRE(found);
            CHECK(*found == expected);
            // A binary that holds no interpreter yields nothing.
            CHECK_FALSE(python::scan_for_runtime(memory, maps, "/nonexistent", *table));
        }
        ++covered;
    }
    CHECK(covered > 0);
}
