// The kernel's record of each thread's CPU (struct rseq, registered by glibc 2.35+), found and
// read in cpuprof's own process the way the sampler reads it in a target.
#include "cpuprof/process/proc_maps.hpp"
#include "cpuprof/process/process_memory.hpp"
#include "cpuprof/process/rseq.hpp"

#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <pthread.h>
#include <sched.h>
#include <thread>
#include <unistd.h>
#include <vector>

#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#define CPUPROF_TEST_HAVE_RSEQ 1
#endif

using namespace cpuprof;
using namespace cpuprof::process;

TEST_CASE("decode_rseq_cpu tells CPUs from the kernel's markers", "[process][rseq]") {
    CHECK(decode_rseq_cpu(0) == 0u);
    CHECK(decode_rseq_cpu(0xdeadbeef00000003ULL) == 3u); // the high half is rseq_cs
    CHECK_FALSE(decode_rseq_cpu(0xffffffffULL));         // RSEQ_CPU_ID_UNINITIALIZED
    CHECK_FALSE(decode_rseq_cpu(0xfffffffeULL));         // RSEQ_CPU_ID_REGISTRATION_FAILED
    CHECK_FALSE(decode_rseq_cpu(CPU_SETSIZE));
}

#if defined(CPUPROF_TEST_HAVE_RSEQ) && defined(__x86_64__)
TEST_CASE("rseq_cpu_offset finds the C library's rseq area, and it holds each thread's CPU",
          "[process][rseq]") {
    ProcessMemory memory(::getpid());
    const auto offset = rseq_cpu_offset(::getpid(), memory, read_maps(::getpid()));
    if (__rseq_size == 0) {
        WARN("glibc registered no rseq area here (glibc.pthread.rseq=0, or no kernel support)");
        CHECK_FALSE(offset);
        return;
    }
    REQUIRE(offset);
    // What the loader exports, plus cpu_id's place in struct rseq.
    CHECK(*offset == __rseq_offset + static_cast<std::ptrdiff_t>(offsetof(struct rseq, cpu_id)));

    cpu_set_t allowed;
    REQUIRE(::sched_getaffinity(0, sizeof allowed, &allowed) == 0);
    int checked = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && checked < 4; ++cpu) {
        if (!CPU_ISSET(cpu, &allowed)) {
            continue;
        }
        // A thread of its own, pinned to `cpu`, reads its word as the sampler would (Catch's
        // assertions stay on the test's thread).
        bool pinned = false;
        bool read = false;
        std::optional<unsigned> seen;
        std::thread([&] {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            pinned = ::sched_setaffinity(0, sizeof one, &one) == 0;
            std::uint64_t word = 0;
            const auto self = static_cast<RemoteAddr>(::pthread_self());
            read = memory.try_read(self + static_cast<RemoteAddr>(*offset), word);
            seen = decode_rseq_cpu(word);
        }).join();
        REQUIRE(pinned);
        REQUIRE(read);
        CHECK(seen == static_cast<unsigned>(cpu));
        ++checked;
    }
    CHECK(checked > 0);
}
#endif
