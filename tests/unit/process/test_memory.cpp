#include "cpuprof/process/block_cache.hpp"
#include "cpuprof/process/buffer_memory.hpp"
#include "cpuprof/process/process_memory.hpp"
#include "cpuprof/process/thread_files.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#include <vector>

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
    std::size_t read_leading(std::span<const ReadRequest> requests) const noexcept override {
        ++batches;
        return inner_.read_leading(requests);
    }
    mutable int reads = 0;
    mutable int batches = 0;

  private:
    const RemoteMemory& inner_;
};

/// Maps `blocks` 4 KiB blocks at `base`, each 8-byte word holding its index from `base`.
void map_counted_words(BufferMemory& image, RemoteAddr base, std::uint64_t blocks) {
    image.map(base, blocks * 4096);
    for (std::uint64_t i = 0; i < blocks * 4096 / 8; ++i) {
        image.put<std::uint64_t>(base + i * 8, i);
    }
}
} // namespace

TEST_CASE("BlockCache serves nearby reads from one block read", "[process]") {
    BufferMemory image;
    map_counted_words(image, 0x10000, 3);
    CountingMemory counting(image);
    BlockCache cache(counting);
    std::uint64_t v = 0;
    for (std::uint64_t i = 0; i < 100; ++i) {
        REQUIRE(cache.read(0x10000 + i * 8, &v, 8) == 0);
        CHECK(v == i);
    }
    CHECK(counting.reads == 1);
    // A read straddling two blocks is served from both (the second one read now).
    std::array<std::uint64_t, 2> pair{};
    REQUIRE(cache.read(0x10000 + 4096 - 8, pair.data(), 16) == 0);
    CHECK(pair[0] == 511);
    CHECK(pair[1] == 512);
    CHECK(counting.reads == 2);
    CHECK(cache.misses() == 2);
    REQUIRE(cache.read(0x10000 + 2 * 4096 - 4, pair.data(), 16) == 0);
    CHECK(pair[0] == 1024ULL << 32); // the high half of word 1023, the low half of word 1024
    CHECK(counting.reads == 3);
    // Longer than a block: straight through, a miss.
    std::array<std::byte, 4096 + 8> long_read{};
    REQUIRE(cache.read(0x10000, long_read.data(), long_read.size()) == 0);
    CHECK(counting.reads == 4);
    CHECK(cache.misses() == 4);
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

TEST_CASE("BlockCache views bytes inside one block in place and leaves the rest to read()",
          "[process]") {
    BufferMemory image;
    map_counted_words(image, 0x10000, 2);
    CountingMemory counting(image);
    BlockCache cache(counting);
    // Plain memory has nothing to view: the caller reads.
    CHECK(image.view(0x10000, 8) == nullptr);

    const std::byte* bytes = cache.view(0x10000 + 80, 24);
    REQUIRE(bytes != nullptr);
    std::array<std::uint64_t, 3> words{};
    std::memcpy(words.data(), bytes, sizeof words);
    CHECK(words == std::array<std::uint64_t, 3>{10, 11, 12});
    CHECK(counting.reads == 1); // the block was loaded on demand, once
    const std::byte* again = cache.view(0x10000 + 4096 - 8, 8);
    REQUIRE(again != nullptr);
    std::uint64_t last = 0;
    std::memcpy(&last, again, 8);
    CHECK(last == 511);
    CHECK(counting.reads == 1);
    // A view counts as a touch: the block is in the set to prefetch next sample.
    std::vector<RemoteAddr> touched;
    cache.touched(touched);
    CHECK(touched == std::vector<RemoteAddr>{0x10000});

    // Straddling two blocks, empty, or in a block that cannot be read: no view, no read made.
    CHECK(cache.view(0x10000 + 4096 - 8, 16) == nullptr);
    CHECK(cache.view(0x10000, 0) == nullptr);
    CHECK(counting.reads == 1);
    CHECK(cache.view(0x40000, 8) == nullptr);
    CHECK(counting.reads == 2);
    // read() still serves the straddling range from both blocks.
    std::array<std::uint64_t, 2> pair{};
    REQUIRE(cache.read(0x10000 + 4096 - 8, pair.data(), 16) == 0);
    CHECK(pair == std::array<std::uint64_t, 2>{511, 512});
}

TEST_CASE("BlockCache prefetches a stack's blocks in one batch and learns the next set",
          "[process]") {
    BufferMemory image;
    map_counted_words(image, 0x10000, 2); // two mapped blocks, a hole, one more block
    image.map(0x13000, 4096);
    image.put<std::uint64_t>(0x13000, 4242);
    CountingMemory counting(image);
    BlockCache cache(counting);

    // The batch reads every block it can up to the first unmapped one; the rest are read later.
    const std::vector<RemoteAddr> bases{0x10000, 0x11000, 0x12000, 0x13000};
    CHECK(cache.prefetch(bases) == 2);
    CHECK(counting.batches == 1);
    CHECK(counting.reads == 0);
    std::uint64_t v = 0;
    REQUIRE(cache.read(0x10000 + 8 * 3, &v, 8) == 0);
    CHECK(v == 3);
    REQUIRE(cache.read(0x11000, &v, 8) == 0);
    CHECK(v == 512);
    CHECK(counting.reads == 0); // both served from the batch
    REQUIRE(cache.read(0x13000, &v, 8) == 0);
    CHECK(v == 4242);
    CHECK(counting.reads == 1); // after the hole: read on demand
    CHECK(cache.read(0x12000, &v, 8) == EFAULT);

    // Only blocks that served a read are the next working set.
    std::vector<RemoteAddr> touched;
    cache.touched(touched);
    CHECK(touched == std::vector<RemoteAddr>{0x10000, 0x11000, 0x13000});
    cache.forget_touches();
    REQUIRE(cache.read(0x11008, &v, 8) == 0);
    touched.clear();
    cache.touched(touched);
    CHECK(touched == std::vector<RemoteAddr>{0x11000});

    // Blocks already held are not fetched twice; unaligned bases are ignored.
    CHECK(cache.prefetch(std::vector<RemoteAddr>{0x10000, 0x10008}) == 0);
    // A prefetch after clear() sees the target as it is now.
    image.put<std::uint64_t>(0x10000, 99);
    cache.clear();
    CHECK(cache.empty());
    CHECK(cache.prefetch(std::vector<RemoteAddr>{0x10000}) == 1);
    REQUIRE(cache.read(0x10000, &v, 8) == 0);
    CHECK(v == 99);
}

TEST_CASE("BlockCache reads trailing words after the blocks, in the same batch", "[process]") {
    BufferMemory image;
    image.map(0x10000, 2 * 4096);
    image.map(0x20000, 64);
    image.put<std::uint64_t>(0x10010, 7);
    image.put<std::uint64_t>(0x20008, 0x1234);
    /// Records the order of one batch's requests.
    class Recording final : public RemoteMemory {
      public:
        explicit Recording(const RemoteMemory& inner)
            : inner_(inner) {}
        int read(RemoteAddr a, void* d, std::size_t n) const noexcept override {
            return inner_.read(a, d, n);
        }
        std::size_t read_leading(std::span<const ReadRequest> requests) const noexcept override {
            order.clear();
            for (const auto& r : requests) {
                order.push_back(r.address);
            }
            return inner_.read_leading(requests);
        }
        mutable std::vector<RemoteAddr> order;

      private:
        const RemoteMemory& inner_;
    } recording(image);
    BlockCache cache(recording);

    std::array<BlockCache::TrailingWord, 3> words{
        {{.address = 0x20008}, {.address = 0x10010}, {.address = 0x30000}}};
    CHECK(cache.prefetch(std::vector<RemoteAddr>{0x10000, 0x11000}, words) == 2);
    CHECK(recording.order == std::vector<RemoteAddr>{0x10000, 0x11000, 0x20008, 0x10010, 0x30000});
    CHECK(words[0].read);
    CHECK(words[0].value == 0x1234);
    CHECK(words[1].read);
    CHECK(words[1].value == 7);
    CHECK_FALSE(words[2].read); // unmapped
    CHECK(cache.misses() == 0);

    // A block that cannot be read leaves every word unread: they vouch only for a whole batch.
    cache.clear();
    CHECK(cache.prefetch(std::vector<RemoteAddr>{0x10000, 0x50000}, words) == 1);
    CHECK_FALSE(words[0].read);
    CHECK_FALSE(words[1].read);
    // Words alone (every block already held) still go out as one batch.
    CHECK(cache.prefetch(std::vector<RemoteAddr>{0x10000}, std::span(words).first(1)) == 0);
    CHECK(recording.order == std::vector<RemoteAddr>{0x20008});
    CHECK(words[0].read);
}

TEST_CASE("read_leading counts the requests read whole, stopping at the first failure",
          "[process]") {
    BufferMemory image;
    image.map(0x1000, 64);
    std::array<std::byte, 16> a{};
    std::array<std::byte, 16> b{};
    std::array<std::byte, 16> c{};
    const std::array<ReadRequest, 3> requests{
        {{0x1000, a.data(), 16}, {0x5000, b.data(), 16}, {0x1010, c.data(), 16}}};
    CHECK(image.read_leading(requests) == 1);
    CHECK(image.read_leading(std::span(requests).subspan(2)) == 1);
    CHECK(image.read_leading(std::span(requests).subspan(1, 1)) == 0);
}

TEST_CASE("ProcessMemory::read_leading reads a batch in one call up to an unmapped page",
          "[process]") {
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    void* raw =
        ::mmap(nullptr, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(raw != MAP_FAILED);
    auto* bytes = static_cast<std::byte*>(raw);
    std::memset(bytes, 0x11, page);
    std::memset(bytes + 2 * page, 0x33, page);
    REQUIRE(::munmap(bytes + page, page) == 0);
    const auto at = [&](std::size_t i) { return reinterpret_cast<RemoteAddr>(bytes + i * page); };

    ProcessMemory self(::getpid());
    std::vector<std::byte> a(page);
    std::vector<std::byte> b(page);
    std::vector<std::byte> c(page);
    const std::array<ReadRequest, 3> with_hole{
        {{at(0), a.data(), page}, {at(1), b.data(), page}, {at(2), c.data(), page}}};
    CHECK(self.read_leading(with_hole) == 1);
    CHECK(a[page - 1] == std::byte{0x11});
    const std::array<ReadRequest, 2> around_hole{
        {{at(0), a.data(), page}, {at(2), c.data(), page}}};
    CHECK(self.read_leading(around_hole) == 2);
    CHECK(c[0] == std::byte{0x33});
    CHECK(self.read_leading(std::span(with_hole).subspan(1)) == 0);
    ::munmap(bytes, page);
    ::munmap(bytes + 2 * page, page);
}

TEST_CASE("ThreadFiles opens a thread's file once and closes it when forgotten", "[process]") {
    cpuprof::process::ThreadFiles files;
    int opens = 0;
    const auto open_null = [&] {
        ++opens;
        return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    };
    const int fd = files.get(7, open_null);
    REQUIRE(fd >= 0);
    CHECK(files.get(7, open_null) == fd);
    CHECK(opens == 1);
    CHECK(files.find(7) == fd);
    files.close(7);
    CHECK(files.find(7) == -1);
    CHECK(::fcntl(fd, F_GETFD) == -1); // really closed
    CHECK(files.get(8, [] { return -1; }) == -1);
    CHECK(files.find(8) == -1);
}

TEST_CASE("ThreadFiles leave a reserve of descriptors under the open-file limit", "[process]") {
    using cpuprof::process::ThreadFiles;
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
    // Room for exactly two per-thread files above the reserve.
    const rlimit low{static_cast<rlim_t>(ThreadFiles::kReserve + 2), saved.rlim_max};
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    const auto refused_before = ThreadFiles::refused();
    int opens = 0;
    const auto open_null = [&] {
        ++opens;
        return ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    };
    {
        ThreadFiles a;
        ThreadFiles b;
        CHECK(a.get(1, open_null) >= 0);
        CHECK_FALSE(ThreadFiles::exhausted());
        CHECK(b.get(1, open_null) >= 0); // the budget is shared by every ThreadFiles
        CHECK(ThreadFiles::exhausted());
        CHECK(a.get(2, open_null) == -1); // refused without trying
        CHECK(opens == 2);
        CHECK(ThreadFiles::refused() == refused_before + 1);
        a.close(1); // a closed file gives its descriptor back
        CHECK(b.get(2, open_null) >= 0);
        CHECK(opens == 3);
    }
    // Destroyed, they hold nothing: the whole budget is free again.
    ThreadFiles c;
    CHECK(c.get(1, open_null) >= 0);
    CHECK(c.get(2, open_null) >= 0);
    CHECK(ThreadFiles::exhausted());
    c.close(1);
    c.close(2);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
}
