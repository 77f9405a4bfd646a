// cpuprof keeps its sampling thread off the CPU of the thread it samples: put beside a spinning
// interpreter on that thread's CPU, it moves itself to another one, as the profile reports.
#include "support.hpp"

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <sched.h>
#include <string>
#include <thread>
#include <vector>

using namespace cpuprof::testing;
using nlohmann::json;

namespace {

std::vector<pid_t> tasks_of(pid_t pid) {
    std::vector<pid_t> tids;
    std::error_code ec;
    for (const auto& entry :
         std::filesystem::directory_iterator(fmt::format("/proc/{}/task", pid), ec)) {
        tids.push_back(static_cast<pid_t>(std::stol(entry.path().filename().string())));
    }
    return tids;
}

/// The CPUs a thread may run on, as /proc says ("0", "0-1" ...).
std::string allowed_list(pid_t pid, pid_t tid) {
    const auto status = read_file(fmt::format("/proc/{}/task/{}/status", pid, tid));
    const auto key = status.find("Cpus_allowed_list:");
    if (key == std::string::npos) {
        return "";
    }
    const auto start = status.find_first_not_of(" \t", key + 18);
    return status.substr(start, status.find('\n', start) - start);
}

/// The CPU a thread last ran on (field 39 of /proc's stat), -1 when unreadable.
int last_cpu(pid_t pid, pid_t tid) {
    const auto cpu = stat_field(read_file(fmt::format("/proc/{}/task/{}/stat", pid, tid)), 39);
    return cpu ? std::stoi(*cpu) : -1;
}

bool two_cpus_allowed() {
    cpu_set_t set;
    return ::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_ISSET(0, &set) &&
           CPU_COUNT(&set) >= 2;
}

} // namespace

TEST_CASE("the sampler moves off the CPU of the thread it samples", "[integration][placement]") {
    if (!two_cpus_allowed()) {
        WARN("fewer than two CPUs (or not CPU 0) allowed here: nowhere to move, unchecked");
        return;
    }
    for (const auto& interp : interpreters()) {
        DYNAMIC_SECTION(interp.label) {
            TempDir dir;
            const auto ready = dir.file("ready");
            // One thread spinning on CPU 0.
            const std::string code = fmt::format(
                "import os, time\nos.sched_setaffinity(0, {{0}})\nopen({:?}, 'w').write('1')\n"
                "end = time.time() + 30\nwhile time.time() < end:\n    sum(range(1000))\n",
                ready);
            Spawned target({interp.path, "-c", code});
            REQUIRE(wait_for_file(ready, std::chrono::seconds(20)));
            const auto out = dir.file("p.json");
            const auto err = dir.file("err");
            const pid_t cpuprof =
                start_process({cpuprof_binary(), "-vv", "record", "--pid",
                               std::to_string(target.pid()), "-d", "3", "-q", "-o", out},
                              [&] { redirect_stdio(dir.file("out"), err); });
            // Once it samples, every thread of cpuprof is put on CPU 0, beside the target's.
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
            while (read_file(err).find("first sample") == std::string::npos &&
                   std::chrono::steady_clock::now() < deadline) {
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            INFO(interp.label << " cpuprof stderr: " << read_file(err));
            REQUIRE(read_file(err).find("first sample") != std::string::npos);
            cpu_set_t zero;
            CPU_ZERO(&zero);
            CPU_SET(0, &zero);
            const auto tids = tasks_of(cpuprof);
            for (pid_t tid : tids) {
                REQUIRE(::sched_setaffinity(tid, sizeof zero, &zero) == 0);
            }
            // The sampling thread finds itself beside the GIL holder at its next tick and moves:
            // the one thread whose affinity is no longer CPU 0 alone (restored to every CPU
            // right after the move).
            std::optional<pid_t> moved;
            while (!moved && std::chrono::steady_clock::now() < deadline) {
                for (pid_t tid : tids) {
                    const auto list = allowed_list(cpuprof, tid);
                    if (!list.empty() && list != "0") {
                        moved = tid;
                    }
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
            // From there on it runs off CPU 0, though free to go back.
            int looks = 0;
            int off_zero = 0;
            for (; moved && looks < 100; ++looks) {
                off_zero += last_cpu(cpuprof, *moved) > 0 ? 1 : 0;
                std::this_thread::sleep_for(std::chrono::milliseconds(3));
            }
            const auto status =
                wait_exit(cpuprof, std::chrono::seconds(30), std::chrono::milliseconds(20));
            REQUIRE(status == 0);
            const json profile = json::parse(read_file(out));
            const auto& stats = profile["stats"];
            INFO("seen off CPU 0 after the move: "
                 << off_zero << " of " << looks << ", ticks " << stats["ticks"] << ", co-located "
                 << stats["colocated_ticks"] << ", moves " << stats["sampler_moves"]);
            REQUIRE(moved);
            CHECK(off_zero >= looks * 9 / 10);
            CHECK(stats["sampler_moves"].get<int>() >= 1);
            CHECK(stats["colocated_ticks"].get<int>() >= 1);
            // It stays off: a handful of co-located ticks, not one per tick.
            CHECK(stats["colocated_ticks"].get<double>() < 0.05 * stats["ticks"].get<double>());
        }
    }
}
