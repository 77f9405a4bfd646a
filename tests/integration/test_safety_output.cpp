// What cpuprof leaves on disk and does to the target's memory: profiles appear whole or not at
// all, a planted symlink is replaced and never followed, and nothing is ever written into the
// target (checked by tracing cpuprof's own system calls with strace).
#include "safety_support.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

using namespace cpuprof::testing;
using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

bool temp_file_in(const std::string& dir) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.path().extension() == ".tmp") {
            return true;
        }
    }
    return false;
}

bool parses_as_json(const std::string& path) {
    try {
        const json profile = json::parse(read_file(path));
        return profile.contains("stacks") && profile.contains("stats");
    } catch (const json::exception&) {
        return false;
    }
}

} // namespace

TEST_CASE("a symlink planted at the output path is replaced and never written through",
          "[integration][safety]") {
    const auto* interp = safety_interpreter();
    REQUIRE(interp != nullptr);
    SteadyTarget target(*interp);
    TempDir dir;
    const auto victim = dir.file("victim");
    std::ofstream(victim) << "precious\n";
    const auto out = dir.file("profile.json");
    fs::create_symlink(victim, out);
    const auto r = run({cpuprof_binary(), "record", "--pid", std::to_string(target.pid()), "-d",
                        "0.5", "-q", "-o", out});
    INFO("stderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK(read_file(victim) == "precious\n");
    CHECK_FALSE(fs::is_symlink(out));
    CHECK(parses_as_json(out));
}

TEST_CASE("SIGKILL while the profile is being written never leaves half a profile",
          "[integration][safety]") {
    const auto* interp = safety_interpreter();
    REQUIRE(interp != nullptr);
    SteadyTarget target(*interp);
    TempDir dir;
    const auto out = dir.file("profile.json");
    REQUIRE(run({cpuprof_binary(), "record", "--pid", std::to_string(target.pid()), "-d", "0.3",
                 "-q", "-o", out})
                .status == 0);
    const auto first = read_file(out);
    REQUIRE(parses_as_json(out));
    int mid_write = 0;
    for (int round = 0; round < 6; ++round) {
        INFO("round " << round);
        // --threads and a long recording make a bigger file that takes longer to write.
        Background cpuprof({cpuprof_binary(), "record", "--pid", std::to_string(target.pid()),
                            "--threads", "-d", "0.8", "-q", "-o", out});
        // The temporary file beside the output appears when writing starts: kill right then.
        const auto deadline = std::chrono::steady_clock::now() + 10s;
        std::this_thread::sleep_for(500ms);
        while (!temp_file_in(dir.path) && std::chrono::steady_clock::now() < deadline) {
        }
        mid_write += temp_file_in(dir.path) ? 1 : 0;
        cpuprof.signal(SIGKILL);
        REQUIRE(cpuprof.wait(10s));
        // Either the old profile, untouched, or a whole new one: never a torn file.
        const auto now = read_file(out);
        CHECK((now == first || parses_as_json(out)));
        CHECK(held_threads(target.pid()).empty());
    }
    INFO("kills that landed while the temporary file existed: " << mid_write);
    CHECK(mid_write >= 3);
}

TEST_CASE("cpuprof never writes to the target's memory", "[integration][safety]") {
    if (!fs::exists("/usr/bin/strace")) {
        WARN("strace is not installed (apt-get install strace): memory-write check skipped");
        return;
    }
    const auto* interp = safety_interpreter();
    REQUIRE(interp != nullptr);
    SteadyTarget target(*interp);
    const auto pid = std::to_string(target.pid());
    const std::vector<std::vector<std::string>> commands{
        {"record", "--pid", pid, "--blocking", "-d", "0.5", "-q", "-o", target.file("b.json")},
        {"record", "--pid", pid, "--native", "-d", "0.5", "-q", "-o", target.file("n.json")},
        {"dump", "--pid", pid, "--native"},
    };
    // Every way to change another process's memory or registers: ptrace's POKE and SET
    // requests, process_vm_writev, and /proc/PID/mem opened for writing.
    const std::regex writes(R"(PTRACE_POKE|PTRACE_SET|process_vm_writev|/mem", O_(WR|RDWR))");
    for (const auto& command : commands) {
        INFO(fmt::format("cpuprof {}", fmt::join(command, " ")));
        const auto trace = target.file("trace");
        std::vector<std::string> argv{"/usr/bin/strace", "-f", "-qq", "-o", trace, "-e",
                                      "trace=ptrace,process_vm_writev,process_vm_readv,openat",
                                      // LeakSanitizer cannot run under a tracer (the ASan build)
                                      "-E", "ASAN_OPTIONS=detect_leaks=0", cpuprof_binary()};
        argv.insert(argv.end(), command.begin(), command.end());
        const auto r = run(argv);
        INFO("stderr: " << r.err);
        REQUIRE(r.status == 0);
        const auto text = read_file(trace);
        // The trace did see cpuprof at work on the target.
        CHECK(std::regex_search(text, std::regex(R"(PTRACE_SEIZE, \d+)")));
        CHECK(text.find("process_vm_readv(" + pid) != std::string::npos);
        std::smatch found;
        const bool wrote = std::regex_search(text, found, writes);
        INFO("write: " << (wrote ? found.str() : "none"));
        CHECK_FALSE(wrote);
    }
    CHECK(target.finish(30s));
}
