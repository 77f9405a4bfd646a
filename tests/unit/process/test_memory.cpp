#include "cpuprof/process/block_cache.hpp"
#include "cpuprof/process/buffer_memory.hpp"
#include "cpuprof/process/process_memory.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <sys/mman.h>
#include <unistd.h>

using namespace cpuprof;
using namespace cpuprof::process;

TEST_CASE("ProcessMemory reads cpuprof's own memory", "[process]") {
    ProcessMemory mem(::getpid());
    static const char text[] = "the quick brown fox";
    std::array<char, sizeof(text)> out{};
    REQUIRE(mem.read(reinterpret_cast<RemoteAddr>(text), out.data(), out.size()) == 0);
    CHECK(std::strcmp(out.data(), text) == 0);

    const std::uint64_t value = 0x1122334455667788ULL;
    CHECK(mem.read_as<std::uint64_t>(reinterpret_cast<RemoteAddr>(&value)) == value);
}

TEST_CASE("ProcessMemory batches reads and reports unmapped addresses", "[process]") {
    ProcessMemory mem(::getpid());
    const int a = 7;
    const long b = -9;
    int ra = 0;
    long rb = 0;
    std::array<ReadRequest, 2> batch{ReadRequest{reinterpret_cast<RemoteAddr>(&a), &ra, sizeof a},
                                     ReadRequest{reinterpret_cast<RemoteAddr>(&b), &rb, sizeof b}};
    REQUIRE(mem.read_batch(batch) == 0);
    CHECK(ra == 7);
    CHECK(rb == -9);

    // A page that is mapped and then unmapped is certainly not readable.
    const long page = ::sysconf(_SC_PAGESIZE);
    void* p = ::mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    ::munmap(p, page);
    int sink = 0;
    CHECK(mem.read(reinterpret_cast<RemoteAddr>(p), &sink, sizeof sink) == EFAULT);
    try {
        (void)mem.read_as<int>(reinterpret_cast<RemoteAddr>(p), "reading a test word");
        FAIL("expected a RemoteReadError");
    } catch (const RemoteReadError& e) {
        CHECK(e.address() == reinterpret_cast<RemoteAddr>(p));
        CHECK(std::string(e.what()).find(std::to_string(::getpid())) != std::string::npos);
    }
}

TEST_CASE("BufferMemory serves mapped regions and faults elsewhere", "[process]") {
    BufferMemory mem;
    mem.map(0x1000, 16);
    mem.put<std::uint32_t>(0x1004, 0xdeadbeef);
    std::uint32_t v = 0;
    CHECK(mem.read(0x1004, &v, 4) == 0);
    CHECK(v == 0xdeadbeef);
    CHECK(mem.read(0x100e, &v, 4) == EFAULT); // crosses the end
    CHECK(mem.read(0x0ffc, &v, 4) == EFAULT); // before the region
    CHECK(mem.read(0x5000, &v, 4) == EFAULT);
}

namespace {
/// Counts the reads that reach the inner memory.
class CountingMemory final : public RemoteMemory {
  public:
    explicit CountingMemory(const RemoteMemory& inner)
        : inner_(inner) {}
    int read(RemoteAddr address, void* destination, std::size_t length) const noexcept override {
        ++reads;
        return inner_.read(address, destination, length);
    }
    mutable int reads = 0;

  private:
    const RemoteMemory& inner_;
};
} // namespace

TEST_CASE("BlockCache serves nearby reads from one block read", "[process]") {
    BufferMemory image;
    image.map(0x10000, 3 * 4096);
    for (std::uint64_t i = 0; i < 3 * 4096 / 8; ++i) {
        image.put<std::uint64_t>(0x10000 + i * 8, i);
    }
    CountingMemory counting(image);
    BlockCache cache(counting);
    std::uint64_t v = 0;
    for (std::uint64_t i = 0; i < 100; ++i) {
        REQUIRE(cache.read(0x10000 + i * 8, &v, 8) == 0);
        CHECK(v == i);
    }
    CHECK(counting.reads == 1);
    // A read straddling two blocks goes straight through.
    std::array<std::uint64_t, 2> pair{};
    REQUIRE(cache.read(0x10000 + 4096 - 8, pair.data(), 16) == 0);
    CHECK(pair[0] == 511);
    CHECK(pair[1] == 512);
    // After clear() the target is read again: a new sample sees new data.
    image.put<std::uint64_t>(0x10008, 777);
    REQUIRE(cache.read(0x10008, &v, 8) == 0);
    CHECK(v == 1);
    cache.clear();
    REQUIRE(cache.read(0x10008, &v, 8) == 0);
    CHECK(v == 777);
    // A block that is not wholly mapped is not cached, but mapped bytes in it still read.
    BufferMemory partial;
    partial.map(0x20000, 100);
    partial.put<std::uint32_t>(0x20010, 42u);
    BlockCache partial_cache(partial);
    std::uint32_t w = 0;
    CHECK(partial_cache.read(0x20010, &w, 4) == 0);
    CHECK(w == 42);
    CHECK(partial_cache.read(0x20100, &w, 4) == EFAULT);
}
