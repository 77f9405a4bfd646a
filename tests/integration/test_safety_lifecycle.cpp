// The target's life under cpuprof: it exits, exec's, has threads born and dying at a high rate,
// or gets a second tracer mid-recording. cpuprof never crashes, never holds the target up, and
// keeps the samples it took.
#include "safety_support.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace cpuprof::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::vector<std::vector<std::string>> kModes{{}, {"--blocking"}, {"--native"}};

std::string mode_name(const std::vector<std::string>& mode) {
    return mode.empty() ? "default" : mode.front();
}

void check_clean_exit(Background& cpuprof, std::chrono::milliseconds timeout) {
    const auto status = cpuprof.wait(timeout);
    INFO("stderr: " << cpuprof.err());
    REQUIRE(status);
    CHECK(*status == 0);
    CHECK(cpuprof.err().find("internal error") == std::string::npos);
    CHECK(cpuprof.err().find("terminate called") == std::string::npos);
}

} // namespace

TEST_CASE("threads born and dying at a high rate never crash record nor lose samples",
          "[integration][safety]") {
    const auto* interp = safety_interpreter();
    REQUIRE(interp != nullptr);
    for (const auto& mode : kModes) {
        SECTION(mode_name(mode)) {
            TempDir dir;
            const auto out = dir.file("profile.json");
            std::vector<std::string> argv{cpuprof_binary(), "record", "--idle", "-q", "-o", out};
            argv.insert(argv.end(), mode.begin(), mode.end());
            argv.insert(argv.end(),
                        {"--", interp->path, fixture("thread_churn.py"), "4", dir.file("done")});
            Background cpuprof(argv);
            // Files kept per thread are closed when the thread is gone: a few hundred threads
            // have come and gone by now, and cpuprof holds a handful of descriptors.
            std::this_thread::sleep_for(3500ms);
            std::size_t fds = 0;
            for ([[maybe_unused]] const auto& fd : std::filesystem::directory_iterator(
                     fmt::format("/proc/{}/fd", cpuprof.pid()),
                     std::filesystem::directory_options::skip_permission_denied)) {
                ++fds;
            }
            INFO("cpuprof's open descriptors after 3.5 s of thread churn: " << fds);
            CHECK(fds < 40);
            check_clean_exit(cpuprof, 60s);
            CHECK(cpuprof.err().find("target exited") != std::string::npos);
            const json done = json::parse(read_file(dir.file("done")));
            INFO("target report " << done.dump());
            CHECK(done["threads"].get<long>() >= 200);
            CHECK(done["wrong"] == 0);
            const json profile = json::parse(read_file(out));
            // Four seconds at the default rate (200 Hz with --native), most of it kept.
            const long expected = mode_name(mode) == "--native" ? 800 : 4000;
            CHECK(profile["stats"]["thread_samples"].get<long>() > expected / 2);
            CHECK(samples_in(profile, "short_life") > 0);
        }
    }
}

TEST_CASE("top and dump survive threads born and dying at a high rate", "[integration][safety]") {
    const auto* interp = safety_interpreter();
    REQUIRE(interp != nullptr);
    TempDir dir;
    SECTION("top, to the end of the target") {
        Background top({cpuprof_binary(), "top", "--native", "--delay", "0.5", "--", interp->path,
                        fixture("thread_churn.py"), "2", dir.file("done")});
        check_clean_exit(top, 60s);
        CHECK(top.err().find("target exited") != std::string::npos);
        CHECK(top.out().find("short_life") != std::string::npos);
        CHECK(json::parse(read_file(dir.file("done")))["wrong"] == 0);
    }
    SECTION("dump, again and again") {
        Spawned churn(
            {interp->path, fixture("thread_churn.py"), "30", dir.file("done"), dir.file("ready")});
        REQUIRE(wait_for_file(dir.file("ready"), 30s));
        int with_churn_frames = 0;
        for (int i = 0; i < 12; ++i) {
            std::vector<std::string> argv{cpuprof_binary(), "dump", "--pid",
                                          std::to_string(churn.pid())};
            if (i % 2 == 1) {
                argv.push_back("--native");
            }
            Background dump(argv);
            check_clean_exit(dump, 30s);
            with_churn_frames += dump.out().find("churn (") != std::string::npos ? 1 : 0;
            CHECK(held_threads(churn.pid()).empty());
        }
        CHECK(with_churn_frames >= 6);
    }
}

TEST_CASE("a target that exec's mid-recording keeps its samples and is never held up",
          "[integration][safety]") {
    const auto* interp = safety_interpreter();
    REQUIRE(interp != nullptr);
    // Which thread calls execve matters to the kernel: a non-leader takes over the process id.
    for (const char* from : {"thread", "main"}) {
        for (const auto& mode : kModes) {
            SECTION(fmt::format("exec from the {} thread, {}", from, mode_name(mode))) {
                TempDir dir;
                Spawned target({interp->path, fixture("exec_self.py"), from, dir.file("ready"),
                                dir.file("result"), "0.6"});
                REQUIRE(wait_for_file(dir.file("ready"), 30s));
                const auto out = dir.file("profile.json");
                // Sampled fast and with idle threads, so that a thread is often held when
                // the execve kills it.
                std::vector<std::string> argv{cpuprof_binary(), "record", "--pid",
                                              std::to_string(target.pid())};
                argv.insert(argv.end(), {"--idle", "--rate", "4000", "-d", "4", "-q", "-o", out});
                argv.insert(argv.end(), mode.begin(), mode.end());
                Background cpuprof(argv);
                // The new program runs 0.6 s and reports: in time only if the exec went
                // through without waiting on cpuprof.
                CHECK(wait_for_file(dir.file("result"), 8s));
                CHECK(target.wait(10s) == 0);
                check_clean_exit(cpuprof, 15s);
                const json result = json::parse(read_file(dir.file("result")));
                CHECK(result["pid"].get<pid_t>() == target.pid());
                const json profile = json::parse(read_file(out));
                CHECK(samples_in(profile, "before_exec") > 0);
            }
        }
    }
}

TEST_CASE("a target exiting mid-recording ends the recording with every sample kept",
          "[integration][safety]") {
    const auto* interp = safety_interpreter();
    REQUIRE(interp != nullptr);
    for (const auto& mode : kModes) {
        SECTION(mode_name(mode)) {
            SteadyTarget target(*interp);
            const auto out = target.file("profile.json");
            std::vector<std::string> argv{cpuprof_binary(),
                                          "record",
                                          "--pid",
                                          std::to_string(target.pid()),
                                          "--idle",
                                          "-d",
                                          "60",
                                          "-q",
                                          "-o",
                                          out};
            argv.insert(argv.end(), mode.begin(), mode.end());
            Background cpuprof(argv);
            REQUIRE(target.workers_progress(5s));
            std::this_thread::sleep_for(500ms);
            // Its parent sees it exit: no thread of it is kept as a traced zombie that only
            // cpuprof could reap.
            const auto done = target.finish(10s);
            REQUIRE(done);
            CHECK((*done)["wrong"] == 0);
            check_clean_exit(cpuprof, 15s);
            CHECK(cpuprof.err().find("target exited") != std::string::npos);
            const json profile = json::parse(read_file(out));
            CHECK(samples_in(profile, "square_sum") > 0);
        }
    }
}

TEST_CASE("a second tracer on one thread costs only that thread its samples",
          "[integration][safety]") {
    const auto* interp = safety_interpreter();
    REQUIRE(interp != nullptr);
    for (const char* mode : {"--blocking", "--native"}) {
        SECTION(mode) {
            SteadyTarget target(*interp);
            const pid_t taken = target.workers().front();
            // This test becomes that thread's tracer without stopping it, as a debugger would.
            REQUIRE(::ptrace(PTRACE_SEIZE, taken, nullptr, nullptr) == 0);
            const auto out = target.file("profile.json");
            Background cpuprof({cpuprof_binary(), "record", "--pid", std::to_string(target.pid()),
                                mode, "-d", "1", "-o", out});
            check_clean_exit(cpuprof, 30s);
            CHECK(cpuprof.err().find(fmt::format("already traced by pid {}", ::gettid())) !=
                  std::string::npos);
            const json profile = json::parse(read_file(out));
            CHECK(profile["stats"]["failed"].get<long>() > 0);
            CHECK(samples_in(profile, "square_sum") > 0);
            CHECK(target.workers_progress(5s));
            // Let the thread go: interrupt, wait for the stop, detach.
            REQUIRE(::ptrace(PTRACE_INTERRUPT, taken, nullptr, nullptr) == 0);
            int status = 0;
            REQUIRE(::waitpid(taken, &status, __WALL) == taken);
            REQUIRE(::ptrace(PTRACE_DETACH, taken, nullptr, nullptr) == 0);
            const auto done = target.finish(30s);
            REQUIRE(done);
            CHECK((*done)["wrong"] == 0);
        }
    }
}

TEST_CASE("a target with more threads than the open-file limit allows is recorded and written",
          "[integration][safety]") {
    // 600 threads and a limit of 512 descriptors (soft and hard, so cpuprof cannot raise it):
    // cpuprof keeps up to 3 files per thread and must leave room to write the profile.
    const auto& interp = interpreters().front();
    TempDir dir;
    Spawned target({interp.path, fixture("many_threads.py"), "600", dir.file("ready")});
    REQUIRE(wait_for_file(dir.file("ready"), std::chrono::seconds(30)));
    const auto out = dir.file("p.json");
    auto r = run({cpuprof_binary(), "record", "--pid", std::to_string(target.pid()), "--rate",
                  "100", "-d", "2", "-o", out},
                 [] {
                     const rlimit files{512, 512};
                     ::setrlimit(RLIMIT_NOFILE, &files);
                 });
    INFO(interp.label << " stderr: " << r.err);
    REQUIRE(r.status == 0);
    CHECK(r.err.find("open-file limit (512 descriptors) is too low for the 601 threads") !=
          std::string::npos);
    CHECK(r.err.find("terminate") == std::string::npos);
    const json profile = json::parse(read_file(out));
    CHECK(profile["threads"].size() == 601);
    CHECK(samples_in(profile, "busy_main") >= 20); // of 200 ticks, fewer kept when it falls behind
}
