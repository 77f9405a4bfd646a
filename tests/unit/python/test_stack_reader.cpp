// StackReader against live interpreters: a steady stack costs one batched read per tick (its
// blocks and, last in the same batch, the innermost frame pointer that validates them), and a
// frame pointer that moved before the batch ended marks the sample torn.
#include "cpuprof/process/proc_files.hpp"
#include "cpuprof/process/proc_maps.hpp"
#include "cpuprof/process/process_memory.hpp"
#include "cpuprof/python/interpreter.hpp"
#include "cpuprof/python/stack_reader.hpp"
#include "live_fixture.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace cpuprof::python {
namespace {

/// Counts the reads that reach the process; on request, changes the last word a batch read, as
/// if the target had moved its innermost frame while the batch was being copied.
class WatchedMemory final : public process::RemoteMemory {
  public:
    explicit WatchedMemory(const process::RemoteMemory& inner)
        : inner_(inner) {}
    int read(RemoteAddr address, void* destination, std::size_t length) const noexcept override {
        ++reads;
        return inner_.read(address, destination, length);
    }
    std::size_t
    read_leading(std::span<const process::ReadRequest> requests) const noexcept override {
        ++batches;
        batch_blocks = 0;
        batch_words = 0;
        for (const auto& request : requests) {
            (request.length == 8 ? batch_words : batch_blocks)++;
        }
        const std::size_t done = inner_.read_leading(requests);
        if (move_last_word && done == requests.size() && requests.back().length == 8) {
            *static_cast<std::uint64_t*>(requests.back().destination) += 0x40;
        }
        return done;
    }
    [[nodiscard]] Pid pid() const noexcept override { return inner_.pid(); }
    mutable int reads = 0;
    mutable int batches = 0;
    mutable int batch_blocks = 0; ///< in the last batch: whole blocks
    mutable int batch_words = 0;  ///< and single words (frame pointers read again)
    bool move_last_word = false;

  private:
    const process::RemoteMemory& inner_;
};

/// A test script of tests/data/python running under `executable` (it creates the file named by
/// its argument once its threads are parked), read through WatchedMemory by a StackReader whose
/// thread list is refreshed.
struct ParkedScript {
    ParkedScript(const std::string& executable, const std::string& script)
        : child(start(executable, script, scratch.path() / "ready"))
        , live(child.pid())
        , memory(live)
        , reader(memory, locate_interpreter(child.pid(), live, process::read_maps(child.pid()))) {
        REQUIRE(reader.refresh_threads(process::list_threads(child.pid())));
    }

    test::ScratchDir scratch{"cpuprof-stack-"};
    process::ChildProcess child;
    process::ProcessMemory live;
    WatchedMemory memory;
    StackReader reader;

  private:
    static process::ChildProcess start(const std::string& executable,
                                       const std::string& script,
                                       const std::filesystem::path& ready) {
        auto child = test::spawn_script(executable, script, ready);
        REQUIRE(child);
        return std::move(*child);
    }
};

void check_snapshot_reads(const std::string& executable) {
    ParkedScript target(executable, "parked_stack.py");
    WatchedMemory& memory = target.memory;
    StackReader& reader = target.reader;
    REQUIRE(reader.threads().size() == 1);
    const ThreadState state = reader.threads().front();

    ThreadStack stack;
    auto tick = [&] {
        reader.take_snapshot();
        reader.read_stack(state, stack, true, true);
        reader.drop_snapshot();
    };
    // The first tick knows nothing yet: blocks are read as the walk needs them and the frame
    // pointer is read again on its own.
    tick();
    REQUIRE(stack.status == ReadStatus::Ok);
    // parked, 21 x descend, <module>
    REQUIRE(stack.frames.size() == 23);
    CHECK(stack.frames.front().code->name == "parked");
    CHECK(stack.frames[1].code->name == "descend");
    CHECK(stack.frames.back().code->name == "<module>");
    CHECK(memory.reads > 0);

    // From then on one batch per tick and nothing else, the check included.
    for (int i = 0; i < 5; ++i) {
        const int reads = memory.reads;
        const int batches = memory.batches;
        tick();
        CHECK(stack.status == ReadStatus::Ok);
        CHECK(stack.frames.size() == 23);
        CHECK(memory.reads == reads);
        CHECK(memory.batches == batches + 1);
    }

    // The frame pointer read last in the batch no longer matches the one the walk started from.
    memory.move_last_word = true;
    tick();
    CHECK(stack.status == ReadStatus::Torn);

    // Outside a snapshot (a held thread, a retry) the check is a read of its own.
    memory.move_last_word = false;
    const int reads = memory.reads;
    reader.read_stack(state, stack, true, false);
    CHECK(stack.status == ReadStatus::Ok);
    CHECK(memory.reads == reads + 1);
}

// Five threads parked in Event.wait: the batch leaves out those flagged asleep, and a thread left
// out is still read right, with reads of its own.
void check_asleep_left_out(const std::string& executable) {
    ParkedScript target(executable, "named_threads.py");
    WatchedMemory& memory = target.memory;
    StackReader& reader = target.reader;
    const auto threads = reader.threads();
    REQUIRE(threads.size() == 5);

    ThreadStack stack;
    auto read_all = [&](std::span<const std::uint8_t> asleep) {
        reader.take_snapshot(asleep);
        for (const auto& state : threads) {
            reader.read_stack(state, stack, true, true);
            REQUIRE(stack.status == ReadStatus::Ok);
        }
        reader.drop_snapshot();
    };
    // The first tick reads the code objects too; from the second on, each thread touches its
    // thread state and frames only, and the third batch holds just those.
    for (int i = 0; i < 3; ++i) {
        read_all({});
    }
    // Every thread's blocks and frame pointer are in the batch.
    const int all_blocks = memory.batch_blocks;
    CHECK(memory.batch_words == 5);
    CHECK(all_blocks >= 5);

    // Only the first thread (and the GIL state) is wanted.
    const std::vector<std::uint8_t> asleep{0, 1, 1, 1, 1};
    reader.take_snapshot(asleep);
    CHECK(memory.batch_words == 1);
    CHECK(memory.batch_blocks < all_blocks);
    CHECK(memory.batch_blocks >= 1);
    int reads = memory.reads;
    reader.read_stack(threads[0], stack, true, true);
    CHECK(stack.status == ReadStatus::Ok);
    CHECK(memory.reads == reads); // vouched for by the batch
    // A thread left out: its blocks on demand and its frame pointer on its own, same stack.
    reads = memory.reads;
    reader.read_stack(threads[2], stack, true, true);
    CHECK(stack.status == ReadStatus::Ok);
    CHECK(memory.reads > reads);
    REQUIRE_FALSE(stack.frames.empty());
    bool parked = false;
    for (const auto& frame : stack.frames) {
        parked = parked || frame.code->name == "park";
    }
    CHECK(parked);
    // Event.wait -> Condition.wait (qualified names from 3.11 on).
    CHECK(stack.frames.front().code->name.ends_with("wait"));
    reader.drop_snapshot();

    // A flag list that does not match the threads leaves nothing out.
    reader.take_snapshot(std::vector<std::uint8_t>{1});
    CHECK(memory.batch_words == 5);
    CHECK(memory.batch_blocks == all_blocks);
    reader.drop_snapshot();
}

} // namespace

TEST_CASE("threads known to be asleep are left out of the tick's batch",
          "[python][stack_reader][live]") {
    CHECK_FALSE(test::for_each_live_python(check_asleep_left_out).empty());
}

TEST_CASE("a steady stack is read and validated in one batch per tick",
          "[python][stack_reader][live]") {
    CHECK_FALSE(test::for_each_live_python(check_snapshot_reads).empty());
}

} // namespace cpuprof::python
