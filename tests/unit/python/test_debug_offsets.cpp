#include "pyenv.hpp"

#include "cpuprof/process/buffer_memory.hpp"
#include "cpuprof/process/process_memory.hpp"
#include "cpuprof/python/debug_offsets.hpp"

#include <catch2/catch.hpp>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <gelf.h>
#include <libelf.h>
#include <optional>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace cpuprof;
using namespace cpuprof::python;

extern char** environ;

namespace {

// Word indices into the 3.13 block (see Include/internal/pycore_runtime.h).
constexpr std::size_t kVersionWord = 1;
constexpr std::size_t kFreeThreadedWord = 2;
constexpr std::size_t kInterpreterSizeWord = 6;
constexpr std::size_t kThreadsHeadWord = 9;
constexpr std::size_t kCodeSizeWord = 34;
constexpr std::size_t kFirstlinenoWord = 39;

// st_value of a .dynsym symbol, read with libelf.
std::optional<std::uint64_t> dynamic_symbol(const std::string& path, const char* name) {
    elf_version(EV_CURRENT);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    std::optional<std::uint64_t> value;
    Elf* elf = elf_begin(fd, ELF_C_READ, nullptr);
    for (Elf_Scn* scn = elf != nullptr ? elf_nextscn(elf, nullptr) : nullptr;
         scn != nullptr && !value; scn = elf_nextscn(elf, scn)) {
        GElf_Shdr shdr;
        Elf_Data* data = nullptr;
        if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type != SHT_DYNSYM ||
            (data = elf_getdata(scn, nullptr)) == nullptr || shdr.sh_entsize == 0) {
            continue;
        }
        for (std::size_t i = 0; i < shdr.sh_size / shdr.sh_entsize; ++i) {
            GElf_Sym sym;
            const char* sym_name = nullptr;
            if (gelf_getsym(data, static_cast<int>(i), &sym) != nullptr &&
                sym.st_shndx != SHN_UNDEF &&
                (sym_name = elf_strptr(elf, shdr.sh_link, sym.st_name)) != nullptr &&
                std::strcmp(sym_name, name) == 0) {
                value = sym.st_value;
                break;
            }
        }
    }
    if (elf != nullptr) {
        elf_end(elf);
    }
    ::close(fd);
    return value;
}

// Start of the mapping of `path` at file offset 0 in /proc/PID/maps. libpython's first PT_LOAD
// has p_vaddr 0, so this is also the load bias.
std::optional<RemoteAddr> load_address(Pid pid, const std::string& path) {
    std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
    std::string line;
    while (std::getline(maps, line)) {
        std::istringstream fields(line);
        std::string range, perms, offset, device, inode, file;
        fields >> range >> perms >> offset >> device >> inode >> file;
        if (file == path && std::stoull(offset, nullptr, 16) == 0) {
            return std::stoull(range.substr(0, range.find('-')), nullptr, 16);
        }
    }
    return std::nullopt;
}

// A python3.13 child that has written "ready" to a pipe (so the runtime is initialised) and
// sleeps until it is killed by the destructor.
class SleepingPython {
  public:
    explicit SleepingPython(const std::string& executable) {
        int fds[2];
        REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
        const char* script = "import sys, time; print('ready', flush=True); time.sleep(30)";
        std::vector<char*> argv = {const_cast<char*>(executable.c_str()), const_cast<char*>("-c"),
                                   const_cast<char*>(script), nullptr};
        const int err =
            posix_spawn(&pid_, executable.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        REQUIRE(err == 0);
        char buffer[16] = {};
        const auto got = ::read(fds[0], buffer, sizeof buffer - 1);
        ::close(fds[0]);
        REQUIRE(got > 0);
        REQUIRE(std::string(buffer).starts_with("ready"));
    }
    ~SleepingPython() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    SleepingPython(const SleepingPython&) = delete;
    SleepingPython& operator=(const SleepingPython&) = delete;
    [[nodiscard]] Pid pid() const { return pid_; }

  private:
    Pid pid_ = 0;
};

std::vector<std::byte> read_live_block(const test::PyenvPython& python) {
    const auto symbol = dynamic_symbol(python.libpython(), "_PyRuntime");
    REQUIRE(symbol);
    SleepingPython child(python.executable());
    const auto base = load_address(child.pid(), python.libpython());
    REQUIRE(base);
    process::ProcessMemory memory(child.pid());
    std::vector<std::byte> block(debug_offsets_size(13));
    REQUIRE(memory.read(*base + *symbol, block.data(), block.size()) == 0);

    // The same read through load_debug_offsets, from the live process.
    const auto loaded = load_debug_offsets(memory, *base + *symbol, 13, kOffsets_3_13);
    CHECK(loaded.problem.empty());
    CHECK(loaded.offsets.has_value());
    const auto wrong = load_debug_offsets(memory, 0x10, 13, kOffsets_3_13);
    CHECK_FALSE(wrong.offsets);
    CHECK_THAT(wrong.problem, Catch::Contains(std::to_string(child.pid())));
    return block;
}

// Spawning the interpreter once serves every section of the test case.
const std::vector<std::byte>& live_block(const test::PyenvPython& python) {
    static const std::vector<std::byte> block = read_live_block(python);
    return block;
}

void set_word(std::vector<std::byte>& block, std::size_t index, std::uint64_t value) {
    std::memcpy(block.data() + index * 8, &value, sizeof value);
}

std::uint64_t word(const std::vector<std::byte>& block, std::size_t index) {
    std::uint64_t value = 0;
    std::memcpy(&value, block.data() + index * 8, sizeof value);
    return value;
}

void check_equal(const PyOffsets& a, const PyOffsets& b) {
    CHECK(a.major == b.major);
    CHECK(a.minor == b.minor);
    CHECK(a.frame_model == b.frame_model);
    CHECK(a.line_table == b.line_table);
    CHECK(a.gil_model == b.gil_model);
    CHECK(a.shim_owner == b.shim_owner);
    CHECK(a.runtime.interpreters_head == b.runtime.interpreters_head);
    CHECK(a.runtime.tstate_current == b.runtime.tstate_current);
    CHECK(a.interp.next == b.interp.next);
    CHECK(a.interp.threads_head == b.interp.threads_head);
    CHECK(a.interp.id == b.interp.id);
    CHECK(a.interp.modules == b.interp.modules);
    CHECK(a.interp.ceval_gil == b.interp.ceval_gil);
    CHECK(a.gil.last_holder == b.gil.last_holder);
    CHECK(a.gil.locked == b.gil.locked);
    CHECK(a.thread.prev == b.thread.prev);
    CHECK(a.thread.next == b.thread.next);
    CHECK(a.thread.interp == b.thread.interp);
    CHECK(a.thread.frame == b.thread.frame);
    CHECK(a.thread.cframe == b.thread.cframe);
    CHECK(a.thread.current_frame == b.thread.current_frame);
    CHECK(a.thread.thread_id == b.thread.thread_id);
    CHECK(a.thread.native_thread_id == b.thread.native_thread_id);
    CHECK(a.cframe.current_frame == b.cframe.current_frame);
    CHECK(a.frame.size == b.frame.size);
    CHECK(a.frame.previous == b.frame.previous);
    CHECK(a.frame.code == b.frame.code);
    CHECK(a.frame.lasti == b.frame.lasti);
    CHECK(a.frame.instr_ptr == b.frame.instr_ptr);
    CHECK(a.frame.owner == b.frame.owner);
    CHECK(a.frame.is_entry == b.frame.is_entry);
    CHECK(a.code.size == b.code.size);
    CHECK(a.code.filename == b.code.filename);
    CHECK(a.code.name == b.code.name);
    CHECK(a.code.qualname == b.code.qualname);
    CHECK(a.code.firstlineno == b.code.firstlineno);
    CHECK(a.code.linetable == b.code.linetable);
    CHECK(a.code.code_adaptive == b.code.code_adaptive);
    CHECK(a.object.ob_type == b.object.ob_type);
    CHECK(a.object.tp_name == b.object.tp_name);
    CHECK(a.object.tp_flags == b.object.tp_flags);
    CHECK(a.object.bytes_size == b.object.bytes_size);
    CHECK(a.object.bytes_data == b.object.bytes_data);
    CHECK(a.unicode.length == b.unicode.length);
    CHECK(a.unicode.state == b.unicode.state);
    CHECK(a.unicode.ascii_data == b.unicode.ascii_data);
    CHECK(a.unicode.compact_data == b.unicode.compact_data);
}

// Rejected, with a reason that mentions `needle`.
void check_rejected(const std::vector<std::byte>& block, const char* needle) {
    const auto result = parse_debug_offsets(block, 13, kOffsets_3_13);
    CHECK_FALSE(result.offsets);
    CHECK_THAT(result.problem, Catch::Contains(needle));
    CHECK(result.problem.find('\n') == std::string::npos);
}

} // namespace

TEST_CASE("_Py_DebugOffsets of a live 3.13 process", "[python][debug_offsets]") {
    const auto python = test::find_pyenv_python(13);
    if (!python) {
        WARN("Python 3.13 is not installed under pyenv: skipping the live _Py_DebugOffsets test");
        return;
    }
    const auto block = live_block(*python);

    SECTION("parses to the static 3.13 table") {
        // The fallback is deliberately wrong everywhere the block has a value, so every field
        // of the result must come from the block itself.
        PyOffsets scrambled = kOffsets_3_13;
        scrambled.runtime.interpreters_head = 1;
        scrambled.interp = {.next = 1, .threads_head = 1, .id = 1, .modules = 1, .ceval_gil = 1};
        scrambled.gil = {.last_holder = 1, .locked = 1};
        scrambled.thread = {.prev = 1,
                            .next = 1,
                            .interp = 1,
                            .current_frame = 1,
                            .thread_id = 1,
                            .native_thread_id = 1};
        scrambled.frame = {.size = 1, .previous = 1, .code = 1, .instr_ptr = 1, .owner = 1};
        scrambled.code = {.size = 1,
                          .filename = 1,
                          .name = 1,
                          .qualname = 1,
                          .firstlineno = 1,
                          .linetable = 1,
                          .code_adaptive = 1};
        scrambled.object = {
            .ob_type = 1, .tp_name = 1, .tp_flags = 1, .bytes_size = 1, .bytes_data = 1};
        scrambled.unicode.length = 1;
        scrambled.unicode.state = 1;
        // compact_data is derived from ascii_data plus the static distance between the two.
        scrambled.unicode.ascii_data = 1;
        scrambled.unicode.compact_data =
            1 + (kOffsets_3_13.unicode.compact_data - kOffsets_3_13.unicode.ascii_data);

        const auto result = parse_debug_offsets(block, 13, scrambled);
        INFO(result.problem);
        REQUIRE(result.offsets);
        CHECK(result.problem.empty());
        CHECK_FALSE(result.free_threaded);
        CHECK(version_from_hex(result.version_hex)->same_minor(3, 13));
        check_equal(*result.offsets, kOffsets_3_13);
    }

    SECTION("a bad cookie is rejected") {
        auto bad = block;
        bad[0] = std::byte{'X'};
        const auto result = parse_debug_offsets(bad, 13, kOffsets_3_13);
        CHECK(result.version_hex == 0);
        check_rejected(bad, "xdebugpy");
    }

    SECTION("another minor version is rejected") {
        auto bad = block;
        set_word(bad, kVersionWord, 0x030C01F0);
        check_rejected(bad, "3.12.1");
        set_word(bad, kVersionWord, 0x1234);
        check_rejected(bad, "0x1234");
        CHECK_FALSE(parse_debug_offsets(block, 12, kOffsets_3_12).offsets);
    }

    SECTION("a free-threaded build is rejected") {
        auto bad = block;
        set_word(bad, kFreeThreadedWord, 1);
        const auto result = parse_debug_offsets(bad, 13, kOffsets_3_13);
        CHECK(result.free_threaded);
        check_rejected(bad, "free-threaded");
    }

    SECTION("huge struct sizes are rejected") {
        auto bad = block;
        set_word(bad, kInterpreterSizeWord, 0x7fffffff);
        check_rejected(bad, "interpreter_state");
        bad = block;
        set_word(bad, kCodeSizeWord, 0);
        check_rejected(bad, "code_object");
    }

    SECTION("fields outside their struct are rejected") {
        auto bad = block;
        set_word(bad, kThreadsHeadWord, word(block, kInterpreterSizeWord) - 4);
        check_rejected(bad, "interpreter_state.threads_head");
        bad = block;
        set_word(bad, kFirstlinenoWord, ~std::uint64_t{0} - 1); // offset + width wraps
        check_rejected(bad, "code_object.firstlineno");
    }

    SECTION("a truncated block is rejected") {
        const std::vector<std::byte> head(block.begin(), block.begin() + 100);
        check_rejected(head, "bytes");
        check_rejected({}, "xdebugpy");
    }
}

TEST_CASE("load_debug_offsets reports unreadable memory", "[python][debug_offsets]") {
    process::BufferMemory memory;
    memory.map(0x1000, 64);
    const auto result = load_debug_offsets(memory, 0x1000, 13, kOffsets_3_13);
    CHECK_FALSE(result.offsets);
    CHECK_THAT(result.problem, Catch::Contains("0x1000"));
    CHECK(debug_offsets_size(12) == 0);
    CHECK_FALSE(load_debug_offsets(memory, 0x1000, 12, kOffsets_3_12).offsets);
}
