#include "cpuprof/process/elf_image.hpp"

#include <cstring>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <unistd.h>

namespace cpuprof::process {

struct ElfImage::Handle {
    int fd = -1;
    Elf* elf = nullptr;
    ~Handle() {
        if (elf != nullptr) {
            elf_end(elf);
        }
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

ElfImage::ElfImage(ElfImage&&) noexcept = default;
ElfImage& ElfImage::operator=(ElfImage&&) noexcept = default;
ElfImage::~ElfImage() = default;

std::optional<ElfImage> ElfImage::open(const std::string& path) {
    static const bool initialised = elf_version(EV_CURRENT) != EV_NONE;
    if (!initialised) {
        return std::nullopt;
    }
    auto handle = std::make_unique<Handle>();
    handle->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (handle->fd < 0) {
        return std::nullopt;
    }
    handle->elf = elf_begin(handle->fd, ELF_C_READ_MMAP, nullptr);
    if (handle->elf == nullptr || elf_kind(handle->elf) != ELF_K_ELF) {
        return std::nullopt;
    }
    ElfImage image;
    image.path_ = path;
    std::size_t count = 0;
    if (elf_getphdrnum(handle->elf, &count) == 0) {
        for (std::size_t i = 0; i < count; ++i) {
            GElf_Phdr phdr;
            if (gelf_getphdr(handle->elf, static_cast<int>(i), &phdr) != nullptr &&
                phdr.p_type == PT_LOAD) {
                const std::uint64_t align = phdr.p_align > 1 ? phdr.p_align : 0x1000;
                image.base_vaddr_ = (phdr.p_vaddr - phdr.p_offset) & ~(align - 1);
                break;
            }
        }
    }
    image.handle_ = std::move(handle);
    return image;
}

std::optional<std::uint64_t> ElfImage::symbol(const std::string& name) const {
    for (Elf64_Word wanted : {SHT_DYNSYM, SHT_SYMTAB}) {
        Elf_Scn* scn = nullptr;
        while ((scn = elf_nextscn(handle_->elf, scn)) != nullptr) {
            GElf_Shdr shdr;
            if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type != wanted ||
                shdr.sh_entsize == 0) {
                continue;
            }
            Elf_Data* data = elf_getdata(scn, nullptr);
            if (data == nullptr) {
                continue;
            }
            const std::size_t n = shdr.sh_size / shdr.sh_entsize;
            for (std::size_t i = 0; i < n; ++i) {
                GElf_Sym sym;
                if (gelf_getsym(data, static_cast<int>(i), &sym) == nullptr ||
                    sym.st_shndx == SHN_UNDEF || sym.st_value == 0) {
                    continue;
                }
                const char* sym_name = elf_strptr(handle_->elf, shdr.sh_link, sym.st_name);
                if (sym_name != nullptr && name == sym_name) {
                    return sym.st_value;
                }
            }
        }
    }
    return std::nullopt;
}

std::optional<ElfSection> ElfImage::section(const std::string& name) const {
    std::size_t shstrndx = 0;
    if (elf_getshdrstrndx(handle_->elf, &shstrndx) != 0) {
        return std::nullopt;
    }
    Elf_Scn* scn = nullptr;
    while ((scn = elf_nextscn(handle_->elf, scn)) != nullptr) {
        GElf_Shdr shdr;
        if (gelf_getshdr(scn, &shdr) == nullptr) {
            continue;
        }
        const char* sec_name = elf_strptr(handle_->elf, shstrndx, shdr.sh_name);
        if (sec_name != nullptr && name == sec_name) {
            return ElfSection{shdr.sh_addr, shdr.sh_size, shdr.sh_offset};
        }
    }
    return std::nullopt;
}

} // namespace cpuprof::process

namespace cpuprof::process {

std::string_view ElfImage::section_data(const std::string& name) const {
    std::size_t shstrndx = 0;
    if (elf_getshdrstrndx(handle_->elf, &shstrndx) != 0) {
        return {};
    }
    Elf_Scn* scn = nullptr;
    while ((scn = elf_nextscn(handle_->elf, scn)) != nullptr) {
        GElf_Shdr shdr;
        if (gelf_getshdr(scn, &shdr) == nullptr || shdr.sh_type == SHT_NOBITS) {
            continue;
        }
        const char* sec_name = elf_strptr(handle_->elf, shstrndx, shdr.sh_name);
        if (sec_name != nullptr && name == sec_name) {
            Elf_Data* data = elf_getdata(scn, nullptr);
            if (data == nullptr || data->d_buf == nullptr) {
                return {};
            }
            return {static_cast<const char*>(data->d_buf), data->d_size};
        }
    }
    return {};
}

} // namespace cpuprof::process
