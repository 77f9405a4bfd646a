// cpuprof is killed or signalled at random moments, many times, while it samples a target whose
// threads do checked work: the target is never left stopped or traced, keeps running, and
// finishes its work with every result right.
#include "safety_support.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <thread>

using namespace cpuprof::testing;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string signal_name(int sig) {
    switch (sig) {
    case SIGINT:
        return "SIGINT";
    case SIGTERM:
        return "SIGTERM";
    case SIGHUP:
        return "SIGHUP";
    default:
        return "SIGKILL";
    }
}

/// Ends a clean run of the target: it stops, joins its threads and reports every unit right.
void check_target_finishes(SteadyTarget& target) {
    const auto done = target.finish(30s);
    REQUIRE(done);
    INFO("target report: " << done->dump());
    CHECK((*done)["wrong"] == 0);
    for (const auto& units : (*done)["units"]) {
        CHECK(units.get<long>() > 0);
    }
    CHECK((*done)["naps"].get<long>() > 0);
}

struct KillPlan {
    std::vector<std::string> args; ///< cpuprof's arguments after the binary, with {pid} and {out}
    int rounds = 0;
    bool holds_threads = false; ///< the mode ptrace-stops threads: aim half the kills at a stop
    std::chrono::milliseconds max_delay{400};
};

std::vector<std::string> expand(const KillPlan& plan, pid_t pid, const std::string& out) {
    std::vector<std::string> argv{cpuprof_binary()};
    for (const auto& a : plan.args) {
        argv.push_back(a == "{pid}" ? std::to_string(pid) : a == "{out}" ? out : a);
    }
    return argv;
}

/// SIGKILLs cpuprof at random moments (from start-up to deep in sampling; in modes that stop
/// threads, half of the kills land right after a target thread was seen held in a ptrace stop)
/// and checks after each one that no thread is stopped or traced and every worker runs on.
void kill_at_random(const KillPlan& plan) {
    const auto* interp = safety_interpreter();
    REQUIRE(interp != nullptr);
    SteadyTarget target(*interp);
    unsigned seed = 0;
    auto& random = test_random(seed);
    INFO("seed " << seed << ", cpuprof " << fmt::format("{}", fmt::join(plan.args, " ")));
    int aimed = 0;
    for (int round = 0; round < plan.rounds; ++round) {
        INFO("round " << round);
        Background cpuprof(expand(plan, target.pid(), target.file("profile.json")));
        const auto delay = std::chrono::milliseconds(random() % plan.max_delay.count());
        std::this_thread::sleep_for(delay);
        if (plan.holds_threads && round % 2 == 1 &&
            saw_ptrace_stop(target.pid(), target.all_threads(),
                            std::chrono::steady_clock::now() + 3s)) {
            ++aimed;
        }
        cpuprof.signal(SIGKILL);
        REQUIRE(cpuprof.wait(10s));
        // cpuprof is gone, so the kernel has already let go of whatever it held.
        CHECK(held_threads(target.pid()).empty());
        CHECK(target.workers_progress(5s));
    }
    if (plan.holds_threads) {
        INFO("kills that followed a thread seen in a ptrace stop: " << aimed);
        CHECK(aimed >= plan.rounds / 4);
    }
    check_target_finishes(target);
}

} // namespace

TEST_CASE("SIGKILL of cpuprof record at random moments never leaves the target stopped",
          "[integration][safety]") {
    SECTION("default (never stops the target)") {
        kill_at_random({{"record", "--pid", "{pid}", "-q", "-o", "{out}"}, 4, false});
    }
    SECTION("--blocking") {
        kill_at_random({{"record", "--pid", "{pid}", "--blocking", "-q", "-o", "{out}"}, 10, true});
    }
    SECTION("--native") {
        kill_at_random({{"record", "--pid", "{pid}", "--native", "-q", "-o", "{out}"}, 10, true});
    }
}

TEST_CASE("SIGKILL of cpuprof top and dump at random moments never leaves the target stopped",
          "[integration][safety]") {
    SECTION("top --native") {
        kill_at_random({{"top", "--pid", "{pid}", "--native"}, 4, true});
    }
    SECTION("dump --native") {
        // A dump takes a few hundred milliseconds: kill within it.
        kill_at_random({{"dump", "--pid", "{pid}", "--native"}, 4, false, 300ms});
    }
}

TEST_CASE("SIGINT or SIGTERM or SIGHUP mid-sample ends the recording and writes it",
          "[integration][safety]") {
    const auto* interp = safety_interpreter();
    REQUIRE(interp != nullptr);
    SteadyTarget target(*interp);
    unsigned seed = 0;
    auto& random = test_random(seed);
    INFO("seed " << seed);
    int round = 0;
    for (const char* mode : {"--nonblocking", "--blocking", "--native"}) {
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
            INFO(mode << " " << signal_name(sig));
            const auto out = target.file(fmt::format("profile-{}.json", round++));
            Background cpuprof({cpuprof_binary(), "record", "--pid", std::to_string(target.pid()),
                                mode, "-q", "-o", out});
            const bool holds = std::string(mode) != "--nonblocking";
            // Sampling has begun once a thread is seen held (or, without holds, after a while).
            if (holds) {
                REQUIRE(saw_ptrace_stop(target.pid(), target.all_threads(),
                                        std::chrono::steady_clock::now() + 15s));
            } else {
                std::this_thread::sleep_for(600ms);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(random() % 300));
            if (holds) {
                (void)saw_ptrace_stop(target.pid(), target.all_threads(),
                                      std::chrono::steady_clock::now() + 1s);
            }
            cpuprof.signal(sig);
            const auto status = cpuprof.wait(15s);
            REQUIRE(status);
            INFO("stderr: " << cpuprof.err());
            CHECK(*status == 0);
            CHECK(cpuprof.err().find("cpuprof: stopped after") != std::string::npos);
            CHECK(held_threads(target.pid()).empty());
            const json profile = json::parse(read_file(out));
            CHECK(profile["stats"]["thread_samples"].get<long>() > 0);
            CHECK(samples_in(profile, "square_sum") > 0);
            CHECK(target.workers_progress(5s));
        }
    }
    check_target_finishes(target);
}
