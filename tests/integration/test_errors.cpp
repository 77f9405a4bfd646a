// Bad input gets one line on stderr naming the problem and the fix, and a non-zero exit.
#include "support.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <grp.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

using namespace cpuprof::testing;

namespace {

void check_one_line_error(const CommandResult& r, int status, const std::string& needle) {
    INFO("stderr: " << r.err);
    CHECK(r.status == status);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK(r.err.starts_with("cpuprof: error: "));
    CHECK(r.err.find(needle) != std::string::npos);
    CHECK(r.err.find("terminate called") == std::string::npos);
}

std::string exe() {
    return cpuprof_binary();
}

constexpr uid_t kNobody = 65534;

/// Like run(), as the unprivileged user nobody.
CommandResult run_as_nobody(const std::vector<std::string>& argv) {
    return run(argv, [] {
        if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
            ::_exit(126);
        }
    });
}

/// True when nobody can run the cpuprof binary (every directory above it searchable).
bool nobody_can_run_cpuprof() {
    if (::geteuid() != 0) {
        return false;
    }
    for (auto p = std::filesystem::path(exe()); p != p.root_path(); p = p.parent_path()) {
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0 || (st.st_mode & S_IXOTH) == 0) {
            return false;
        }
    }
    return true;
}

/// A tmpfs mounted read-only over a fresh directory, for as long as the object lives.
struct ReadOnlyMount {
    ReadOnlyMount() { mounted = ::mount("none", dir.path.c_str(), "tmpfs", MS_RDONLY, "") == 0; }
    ~ReadOnlyMount() {
        if (mounted) {
            ::umount2(dir.path.c_str(), MNT_DETACH);
        }
    }
    ReadOnlyMount(const ReadOnlyMount&) = delete;
    ReadOnlyMount& operator=(const ReadOnlyMount&) = delete;
    TempDir dir;
    bool mounted = false;
};

/// A Python process that is ready to be profiled; cpuprof's checks must all fail before it.
struct ReadyPython {
    ReadyPython()
        : process({interpreters().front().path, fixture("top_busy.py"), dir.file("ready")}) {
        REQUIRE(wait_for_file(dir.file("ready"), std::chrono::seconds(30)));
    }
    [[nodiscard]] std::string pid() const { return std::to_string(process.pid()); }
    TempDir dir;
    Spawned process;
};

} // namespace

TEST_CASE("bad pids are usage errors or say there is no such process", "[integration][errors]") {
    check_one_line_error(run({exe(), "dump", "--pid", "abc"}), 2, "invalid --pid 'abc'");
    check_one_line_error(run({exe(), "dump", "--pid", "0"}), 2, "positive");
    check_one_line_error(run({exe(), "dump", "--pid", "-5"}), 2, "");
    check_one_line_error(run({exe(), "record", "--pid", "99999999"}), 1, "no process with pid");
    // A pid that is valid but unused: the highest possible pid is almost never in use.
    check_one_line_error(run({exe(), "dump", "--pid", "4194303"}), 1,
                         "no process with pid 4194303");
    check_one_line_error(run({exe(), "dump"}), 2, "no target");
}

TEST_CASE("processes that are not Python are refused with the reason", "[integration][errors]") {
    Spawned sleeper({"/bin/sleep", "60"});
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto r = run({exe(), "dump", "--pid", std::to_string(sleeper.pid())});
    check_one_line_error(r, 1, "is not a Python process");
    CHECK(r.err.find("_PyRuntime") != std::string::npos);

    check_one_line_error(run({exe(), "dump", "--pid", "2"}), 1, "kernel thread");
}

TEST_CASE("a zombie is refused", "[integration][errors]") {
    // The shell forks `true` and then becomes `sleep`, which never reaps it.
    Spawned parent({"/bin/sh", "-c", "/bin/true & exec /bin/sleep 60"});
    std::string zombie;
    for (int i = 0; i < 200 && zombie.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        auto children =
            read_file(fmt::format("/proc/{}/task/{}/children", parent.pid(), parent.pid()));
        auto stat =
            children.empty()
                ? ""
                : read_file(fmt::format("/proc/{}/stat", children.substr(0, children.find(' '))));
        if (stat.find(") Z ") != std::string::npos) {
            zombie = children.substr(0, children.find(' '));
        }
    }
    REQUIRE_FALSE(zombie.empty());
    check_one_line_error(run({exe(), "dump", "--pid", zombie}), 1, "zombie");
    check_one_line_error(run({exe(), "record", "--pid", zombie, "-o", "-"}), 1, "zombie");
    check_one_line_error(run({exe(), "top", "--pid", zombie}), 1, "zombie");
}

TEST_CASE("unsupported interpreters are named", "[integration][errors]") {
    const std::string root = "/root/.pyenv/versions";
    std::error_code ec;
    std::string old;
    for (const auto& e : std::filesystem::directory_iterator(root, ec)) {
        if (e.path().filename().string().starts_with("3.7.")) {
            old = (e.path() / "bin" / "python3.7").string();
        }
    }
    if (old.empty()) {
        WARN("no CPython 3.7 here: unsupported-version check skipped");
        return;
    }
    TempDir dir;
    Spawned py({old, "-c", "import sys,time; open(sys.argv[1],'w').write('x'); time.sleep(60)",
                dir.file("ready")});
    REQUIRE(wait_for_file(dir.file("ready"), std::chrono::seconds(20)));
    auto r = run({exe(), "dump", "--pid", std::to_string(py.pid())});
    check_one_line_error(r, 1, "Python 3.7");
    CHECK(r.err.find("3.8 to 3.13") != std::string::npos);
}

TEST_CASE("record rejects bad options before sampling", "[integration][errors]") {
    TempDir dir;
    const auto pid = std::to_string(::getpid());
    check_one_line_error(run({exe(), "record", "--pid", pid, "--rate", "0"}), 2,
                         "invalid --rate 0");
    check_one_line_error(run({exe(), "record", "--pid", pid, "--rate", "-10"}), 2,
                         "invalid --rate");
    check_one_line_error(run({exe(), "record", "--pid", pid, "--rate", "1e9"}), 2, "at most");
    check_one_line_error(run({exe(), "record", "--pid", pid, "--duration", "soon"}), 2,
                         "invalid --duration 'soon'");
    check_one_line_error(run({exe(), "record", "--pid", pid, "--format", "pdf", "-o", "-"}), 2,
                         "unknown --format 'pdf'");
    check_one_line_error(
        run({exe(), "record", "--pid", pid, "-o", dir.file("missing/dir/out.svg")}), 2,
        "missing/dir");
    check_one_line_error(run({exe(), "record", "--pid", pid, "-o", dir.file("out.pdf")}), 2,
                         "--format");
    check_one_line_error(run({exe(), "record", "--", "/nonexistent/python"}), 1,
                         "cannot run '/nonexistent/python'");
}

TEST_CASE("top rejects bad targets and options with one line", "[integration][errors]") {
    check_one_line_error(run({exe(), "top", "--pid", "abc"}), 2, "invalid --pid 'abc'");
    check_one_line_error(run({exe(), "top", "--pid", "0"}), 2, "positive");
    check_one_line_error(run({exe(), "top", "--pid", "-5"}), 2, "");
    check_one_line_error(run({exe(), "top", "--pid", "4194303"}), 1, "no process with pid 4194303");
    check_one_line_error(run({exe(), "top", "--pid", "2"}), 1, "kernel thread");
    check_one_line_error(run({exe(), "top"}), 2, "no target");
    check_one_line_error(run({exe(), "top", "--", "/nonexistent/python"}), 1,
                         "cannot run '/nonexistent/python'");

    Spawned sleeper({"/bin/sleep", "60"});
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    check_one_line_error(run({exe(), "top", "--pid", std::to_string(sleeper.pid())}), 1,
                         "is not a Python process");
    check_one_line_error(run({exe(), "record", "--pid", std::to_string(sleeper.pid()), "-o", "-"}),
                         1, "is not a Python process");
    check_one_line_error(run({exe(), "record", "--pid", "2", "-o", "-"}), 1, "kernel thread");

    const auto pid = std::to_string(::getpid());
    check_one_line_error(run({exe(), "top", "--pid", pid, "--rate", "0"}), 2, "invalid --rate 0");
    check_one_line_error(run({exe(), "top", "--pid", pid, "--rate", "-3"}), 2, "invalid --rate");
    check_one_line_error(run({exe(), "top", "--pid", pid, "--rate", "1e9"}), 2, "at most");
    check_one_line_error(run({exe(), "top", "--pid", pid, "--rate", "fast"}), 2,
                         "invalid --rate 'fast'");
    check_one_line_error(run({exe(), "top", "--pid", pid, "--delay", "0"}), 2, "invalid --delay");
    check_one_line_error(run({exe(), "top", "--pid", pid, "--delay", "soon"}), 2, "--delay");
}

TEST_CASE("absurd rates and durations are refused before running", "[integration][errors]") {
    const auto pid = std::to_string(::getpid());
    // A rate this low or a duration this long would overflow the sampler's nanosecond clock.
    check_one_line_error(run({exe(), "record", "--pid", pid, "--rate", "1e-12", "-o", "-"}), 2,
                         "at least 0.01");
    check_one_line_error(run({exe(), "top", "--pid", pid, "--rate", "1e-300"}), 2, "at least 0.01");
    check_one_line_error(run({exe(), "record", "--pid", pid, "--rate", "nan", "-o", "-"}), 2,
                         "invalid --rate 'nan'");
    check_one_line_error(run({exe(), "record", "--pid", pid, "--rate", "inf", "-o", "-"}), 2,
                         "invalid --rate 'inf'");
    check_one_line_error(run({exe(), "record", "--pid", pid, "--duration", "1e300", "-o", "-"}), 2,
                         "at most");
    check_one_line_error(run({exe(), "record", "--pid", pid, "--duration", "0", "-o", "-"}), 2,
                         "invalid --duration '0'");
    check_one_line_error(run({exe(), "record", "--pid", pid, "--duration", "-1", "-o", "-"}), 2,
                         "invalid --duration '-1'");
    check_one_line_error(run({exe(), "record", "--pid", pid, "--duration", "nan", "-o", "-"}), 2,
                         "invalid --duration 'nan'");
}

TEST_CASE("an output that cannot be written fails before the target is touched",
          "[integration][errors]") {
    ReadyPython python;
    TempDir dir;
    const auto started = std::chrono::steady_clock::now();
    // A path through a regular file.
    const auto file = dir.file("file");
    std::ofstream(file) << "x";
    check_one_line_error(run({exe(), "record", "--pid", python.pid(), "-o", file + "/out.svg"}), 2,
                         "is not a directory");
    // The output path is an existing directory.
    check_one_line_error(
        run({exe(), "record", "--pid", python.pid(), "--format", "json", "-o", dir.path}), 2,
        "is a directory");
    check_one_line_error(
        run({exe(), "record", "--pid", python.pid(), "--output-dir", dir.file("a/b/c")}), 1,
        "cannot create --output-dir");

    // A read-only directory. As root, access() ignores modes, so the directory must really be
    // read-only: a read-only tmpfs, or else cpuprof runs as nobody in a directory owned by root.
    ReadOnlyMount readonly;
    if (readonly.mounted) {
        check_one_line_error(
            run({exe(), "record", "--pid", python.pid(), "-o", readonly.dir.file("p.svg")}), 1,
            readonly.dir.path);
        const auto r =
            run({exe(), "record", "--pid", python.pid(), "--output-dir", readonly.dir.path});
        check_one_line_error(r, 1, readonly.dir.path);
        CHECK(r.err.find("Read-only file system") != std::string::npos);
    } else if (nobody_can_run_cpuprof()) {
        WARN("cannot mount a read-only tmpfs here: checking as nobody instead");
        TempDir root_only;
        ::chmod(root_only.path.c_str(), 0755);
        const auto r = run_as_nobody(
            {exe(), "record", "--pid", std::to_string(::getpid()), "-o", root_only.file("p.svg")});
        check_one_line_error(r, 1, root_only.path);
    } else {
        WARN("neither a read-only tmpfs nor the user nobody is available: read-only check skipped");
    }
    // Every check above happened before sampling: no run took the time a recording takes, and the
    // target was never stopped or traced.
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(10));
    const auto status = read_file(fmt::format("/proc/{}/status", python.pid()));
    CHECK(status.find("TracerPid:\t0\n") != std::string::npos);
}

TEST_CASE("another user's process gets a permission error naming ptrace", "[integration][errors]") {
    if (!nobody_can_run_cpuprof()) {
        WARN("needs root and a cpuprof binary the user nobody can run: permission check skipped");
        return;
    }
    ReadyPython python;
    const bool yama = std::filesystem::exists("/proc/sys/kernel/yama/ptrace_scope") &&
                      read_file("/proc/sys/kernel/yama/ptrace_scope").rfind('0', 0) != 0;
    if (!yama) {
        WARN("Yama is not restricting ptrace here: the ptrace_scope hint is not exercised");
    }
    TempDir dir;
    ::chmod(dir.path.c_str(), 0777);
    const std::vector<std::vector<std::string>> commands{
        {"dump", "--pid", python.pid()},
        {"dump", "--pid", python.pid(), "--native"},
        {"record", "--pid", python.pid(), "-d", "1", "-o", dir.file("p.svg")},
        {"record", "--pid", python.pid(), "--blocking", "-d", "1", "-o", dir.file("p.svg")},
        {"top", "--pid", python.pid()},
    };
    for (const auto& command : commands) {
        std::vector<std::string> argv{exe()};
        argv.insert(argv.end(), command.begin(), command.end());
        INFO(fmt::format("{}", fmt::join(argv, " ")));
        const auto r = run_as_nobody(argv);
        check_one_line_error(r, 1, "permission denied");
        CHECK(r.err.find("CAP_SYS_PTRACE") != std::string::npos);
        CHECK(r.err.find(python.pid()) != std::string::npos);
        if (yama) {
            CHECK(r.err.find("ptrace_scope") != std::string::npos);
        }
    }
}
