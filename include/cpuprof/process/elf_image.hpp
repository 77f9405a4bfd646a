#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace cpuprof::process {

struct ElfSection {
    std::uint64_t address = 0; ///< sh_addr (link-time virtual address)
    std::uint64_t size = 0;
    std::uint64_t file_offset = 0;
};

/// A read-only view of an ELF file on disk through libelf: symbols (.dynsym and .symtab),
/// sections, and the link-time address of its first loadable segment.
class ElfImage {
  public:
    /// Opens `path`; nullopt when it is missing or not an ELF file.
    [[nodiscard]] static std::optional<ElfImage> open(const std::string& path);

    ElfImage(ElfImage&&) noexcept;
    ElfImage& operator=(ElfImage&&) noexcept;
    ~ElfImage();

    /// st_value of a defined symbol, searched in .dynsym then .symtab.
    [[nodiscard]] std::optional<std::uint64_t> symbol(const std::string& name) const;
    [[nodiscard]] std::optional<ElfSection> section(const std::string& name) const;
    /// The contents of a section (empty when absent or without file data, e.g. .bss).
    [[nodiscard]] std::string_view section_data(const std::string& name) const;
    /// p_vaddr - p_offset of the PT_LOAD segment that maps file offset 0 (aligned to pages), so
    /// load bias = start of the map at file offset 0 - this value.
    [[nodiscard]] std::uint64_t base_vaddr() const noexcept { return base_vaddr_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

  private:
    struct Handle;
    ElfImage() = default;
    std::unique_ptr<Handle> handle_;
    std::string path_;
    std::uint64_t base_vaddr_ = 0;
};

} // namespace cpuprof::process
