#include "cpuprof/error.hpp"
#include "cpuprof/process/ptrace_session.hpp"
#include "native_test_support.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <string>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace cpuprof;
using namespace cpuprof::process;
using namespace cpuprof::test;

namespace {

bool running(char state) {
    return state == 'R' || state == 'S';
}

ChildProcess start_spinner(const std::vector<std::string>& mode) {
    std::vector<std::string> argv{spinner_path(), std::to_string(ChildProcess::kEventFd)};
    argv.insert(argv.end(), mode.begin(), mode.end());
    ChildProcess child = ChildProcess::exec(argv);
    REQUIRE(child.wait_for('R', 10s));
    return child;
}

} // namespace

TEST_CASE("PtraceSession stops a thread and lets it go", "[native][ptrace]") {
    ChildProcess child = start_spinner({"progress"});
    const Pid pid = child.pid();
    const std::vector<Tid> tids{pid};
    {
        PtraceSession session(pid, tids);
        REQUIRE(session.threads().size() == 1);
        CHECK(session.holds(pid));
        CHECK(session.threads()[0].pending_signal == 0);
        CHECK(thread_state(pid, pid) == 't');
        // Stopped means no work: nothing new arrives once what was written before is drained.
        child.drain();
        CHECK_FALSE(child.wait_for('.', 50ms));
    }
    CHECK(running(wait_for_state(pid, pid, running)));
    CHECK(child.wait_for('.', 5s));
}

TEST_CASE("PtraceSession stops every listed thread", "[native][ptrace]") {
    ChildProcess child = start_spinner({"threads", "3"});
    const Pid pid = child.pid();
    const std::vector<Tid> tids = thread_ids(pid);
    REQUIRE(tids.size() == 4);
    {
        PtraceSession session(pid, tids);
        CHECK(session.threads().size() == 4);
        for (Tid tid : tids) {
            CHECK(session.holds(tid));
            CHECK(thread_state(pid, tid) == 't');
        }
    }
    for (Tid tid : tids) {
        CHECK(running(wait_for_state(pid, tid, running)));
    }
}

TEST_CASE("PtraceSession skips threads that are gone", "[native][ptrace]") {
    ChildProcess gone = ChildProcess::fork([](int) { return 0; });
    const Pid gone_pid = gone.pid();
    CHECK(WIFEXITED(gone.wait()));

    ChildProcess child = start_spinner({"busy"});
    const std::vector<Tid> tids{gone_pid, child.pid()};
    PtraceSession session(child.pid(), tids);
    REQUIRE(session.threads().size() == 1);
    CHECK(session.threads()[0].tid == child.pid());
    CHECK_FALSE(session.holds(gone_pid));

    ThreadStop none(gone_pid, gone_pid);
    CHECK_FALSE(none.stopped());
}

TEST_CASE("signals arriving while a thread is being stopped are delivered, never lost",
          "[native][ptrace]") {
    ChildProcess child = start_spinner({"busy"});
    const Pid pid = child.pid();
    int intercepted = 0;
    constexpr int kRounds = 100;
    for (int round = 0; round < kRounds; ++round) {
        REQUIRE(::kill(pid, SIGUSR1) == 0);
        {
            ThreadStop stop(pid, pid);
            REQUIRE(stop.stopped());
            if (stop.pending_signal() == SIGUSR1) {
                ++intercepted;
            }
        }
        // The spinner answers each SIGUSR1 with 'U'; one swallowed signal never answers.
        INFO("round " << round);
        REQUIRE(child.wait_for('U', 5s));
    }
    INFO("stops that caught SIGUSR1 in flight and re-injected it: " << intercepted);
    SUCCEED();
}

TEST_CASE("a signal the stop intercepts is re-injected on detach", "[native][ptrace]") {
    ChildProcess child = start_spinner({"busy"});
    const Pid pid = child.pid();
    // stop_thread's window between PTRACE_SEIZE and PTRACE_INTERRUPT, held open: SIGUSR1 is
    // dequeued by the seized thread, which stops in a signal-delivery-stop for it.
    REQUIRE(::ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) == 0);
    REQUIRE(::kill(pid, SIGUSR1) == 0);
    REQUIRE(wait_for_state(pid, pid, [](char s) { return s == 't'; }) == 't');
    const auto stopped = interrupt_seized_thread(pid);
    REQUIRE(stopped.has_value());
    CHECK(stopped->pending_signal == SIGUSR1);

    SECTION("handing it back runs the handler") {
        release_thread(*stopped);
        CHECK(child.wait_for('U', 5s));
    }
    SECTION("without it the signal would be lost") {
        release_thread(StoppedThread{pid, 0});
        CHECK_FALSE(child.wait_for('U', 100ms));
    }
}

TEST_CASE("a group-stopped target stays stopped after the session", "[native][ptrace]") {
    ChildProcess child = start_spinner({"busy"});
    const Pid pid = child.pid();
    REQUIRE(::kill(pid, SIGSTOP) == 0);
    REQUIRE(wait_for_state(pid, pid, [](char s) { return s == 'T'; }) == 'T');
    {
        ThreadStop stop(pid, pid);
        REQUIRE(stop.stopped());
        CHECK(thread_state(pid, pid) == 't');
    }
    // The kernel puts it back into the group stop on detach; SIGCONT still resumes it.
    CHECK(wait_for_state(pid, pid, [](char s) { return s == 'T'; }) == 'T');
    REQUIRE(::kill(pid, SIGCONT) == 0);
    CHECK(running(wait_for_state(pid, pid, running)));
}

TEST_CASE("a SIGKILLed tracer leaves its stopped target running", "[native][ptrace]") {
    ChildProcess target = start_spinner({"progress"});
    const Pid pid = target.pid();
    // The tracer is a separate process so that it can be SIGKILLed while it holds the stop.
    ChildProcess tracer = ChildProcess::fork([pid](int event_fd) {
        const std::vector<Tid> tids{pid};
        PtraceSession session(pid, tids);
        if (session.threads().size() != 1 || ::write(event_fd, "S", 1) != 1) {
            return 1;
        }
        for (;;) {
            ::pause();
        }
    });
    REQUIRE(tracer.wait_for('S', 10s));
    REQUIRE(thread_state(pid, pid) == 't');
    target.drain();
    CHECK_FALSE(target.wait_for('.', 50ms));

    tracer.kill_and_reap();

    CHECK(running(wait_for_state(pid, pid, running)));
    CHECK(target.wait_for('.', 5s));
}

TEST_CASE("EPERM from ptrace becomes a PermissionError naming the fix", "[native][ptrace]") {
    ChildProcess target = start_spinner({"busy"});
    const Pid pid = target.pid();

    SECTION("an unprivileged tracer") {
        if (::geteuid() != 0) {
            WARN("skipping: dropping privileges needs root");
            return;
        }
        ChildProcess attempt = ChildProcess::fork([pid](int event_fd) {
            if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
                return 2;
            }
            try {
                ThreadStop stop(pid, pid);
            } catch (const PermissionError& e) {
                const std::string message = e.what();
                return ::write(event_fd, message.data(), message.size()) > 0 ? 0 : 3;
            }
            return 4;
        });
        const std::string message = attempt.read_all(5s);
        CHECK(WEXITSTATUS(attempt.wait()) == 0);
        CHECK(message.find("ptrace") != std::string::npos);
        CHECK(message.find("CAP_SYS_PTRACE") != std::string::npos);
        CHECK(message.find(std::to_string(pid)) != std::string::npos);
        CHECK(message.find('\n') == std::string::npos);
    }

    SECTION("a target that already has a tracer") {
        ThreadStop held(pid, pid);
        REQUIRE(held.stopped());
        const Pid tracer = ::getpid();
        ChildProcess attempt = ChildProcess::fork([pid](int event_fd) {
            try {
                ThreadStop stop(pid, pid);
            } catch (const PermissionError& e) {
                const std::string message = e.what();
                return ::write(event_fd, message.data(), message.size()) > 0 ? 0 : 3;
            }
            return 4;
        });
        const std::string message = attempt.read_all(5s);
        CHECK(WEXITSTATUS(attempt.wait()) == 0);
        CHECK(message.find("already traced by pid " + std::to_string(tracer)) != std::string::npos);
    }
}

TEST_CASE("the EPERM message mentions Yama only when it can be the cause", "[native][ptrace]") {
    const std::string restricted = ptrace_permission_message(42, 43, 1, false, 0);
    CHECK(restricted.find("pid 42 (thread 43)") != std::string::npos);
    CHECK(restricted.find("CAP_SYS_PTRACE") != std::string::npos);
    CHECK(restricted.find("kernel.yama.ptrace_scope = 1") != std::string::npos);

    CHECK(ptrace_permission_message(42, 43, 1, true, 0).find("Yama") == std::string::npos);
    CHECK(ptrace_permission_message(42, 43, 0, false, 0).find("Yama") == std::string::npos);
    CHECK(ptrace_permission_message(42, 43, 0, false, 0).find("already traced") ==
          std::string::npos);
}

TEST_CASE("only a signal-delivery-stop hands a signal back", "[native][ptrace]") {
    // waitpid encodes a stop as 0x7f | signal << 8 | ptrace event << 16.
    const auto stop_status = [](int signal, int event) { return 0x7f | signal << 8 | event << 16; };
    CHECK(signal_to_reinject(stop_status(SIGTRAP, PTRACE_EVENT_STOP)) == 0);
    CHECK(signal_to_reinject(stop_status(SIGSTOP, PTRACE_EVENT_STOP)) == 0); // group-stop
    CHECK(signal_to_reinject(stop_status(SIGUSR1, 0)) == SIGUSR1);
    CHECK(signal_to_reinject(stop_status(SIGSTOP, 0)) == SIGSTOP);
    CHECK(signal_to_reinject(0) == 0); // exited with status 0: not a stop
}
