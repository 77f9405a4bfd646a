#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace cpuprof::test {

/// Struct layouts from the DWARF of a shared library, for checking hand-written offset tables.
/// The top-level types of every compilation unit are indexed once when the file is opened, so
/// each lookup afterwards is a hash probe plus a walk of one struct's members.
class DwarfTypes {
  public:
    /// nullopt when the file cannot be opened or has no DWARF.
    [[nodiscard]] static std::optional<DwarfTypes> open(const std::string& path);

    DwarfTypes(DwarfTypes&&) noexcept;
    DwarfTypes& operator=(DwarfTypes&&) noexcept;
    ~DwarfTypes();

    struct Member {
        std::uint64_t offset = 0; ///< from the start of the outermost struct
        std::uint64_t size = 0;   ///< byte size of the member's type (0 if unsized)
    };

    /// sizeof a struct named by its typedef ("PyThreadState") or tag ("struct _ts" or "_ts").
    [[nodiscard]] std::optional<std::uint64_t> size_of(std::string_view type) const;
    /// A member of a struct by dotted path ("interpreters.head"), looking through anonymous
    /// unions and structs on the way.
    [[nodiscard]] std::optional<Member> member(std::string_view type, std::string_view path) const;
    /// The value of an enumerator ("FRAME_OWNED_BY_CSTACK").
    [[nodiscard]] std::optional<std::int64_t> enumerator(std::string_view name) const;

  private:
    struct Handle;
    DwarfTypes();
    std::unique_ptr<Handle> handle_;
};

} // namespace cpuprof::test
