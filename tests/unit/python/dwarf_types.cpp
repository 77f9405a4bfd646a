#include "dwarf_types.hpp"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <fcntl.h>
#include <string>
#include <unistd.h>
#include <vector>

namespace cpuprof::test {

struct DwarfTypes::Handle {
    int fd = -1;
    Dwarf* dwarf = nullptr;
    // DIE offsets of the first complete definition of each name, over all compilation units.
    std::unordered_map<std::string, Dwarf_Off> structs;  // by tag
    std::unordered_map<std::string, Dwarf_Off> typedefs; // by typedef name
    std::unordered_map<std::string, std::int64_t> enumerators;

    ~Handle() {
        if (dwarf != nullptr) {
            dwarf_end(dwarf);
        }
        if (fd >= 0) {
            ::close(fd);
        }
    }

    void index_enumerators(Dwarf_Die& enumeration) {
        Dwarf_Die child;
        if (dwarf_child(&enumeration, &child) != 0) {
            return;
        }
        do {
            const char* name = dwarf_diename(&child);
            Dwarf_Attribute attr;
            Dwarf_Sword value = 0;
            if (name != nullptr && dwarf_attr(&child, DW_AT_const_value, &attr) != nullptr &&
                dwarf_formsdata(&attr, &value) == 0) {
                enumerators.emplace(name, value);
            }
        } while (dwarf_siblingof(&child, &child) == 0);
    }

    void index() {
        Dwarf_Off offset = 0;
        Dwarf_Off next = 0;
        std::size_t header_size = 0;
        while (dwarf_nextcu(dwarf, offset, &next, &header_size, nullptr, nullptr, nullptr) == 0) {
            Dwarf_Die cu;
            Dwarf_Die die;
            if (dwarf_offdie(dwarf, offset + header_size, &cu) != nullptr &&
                dwarf_child(&cu, &die) == 0) {
                do {
                    const int tag = dwarf_tag(&die);
                    const char* name = dwarf_diename(&die);
                    if (tag == DW_TAG_enumeration_type) {
                        index_enumerators(die);
                    } else if (name == nullptr) {
                        continue;
                    } else if (tag == DW_TAG_structure_type &&
                               !dwarf_hasattr(&die, DW_AT_declaration)) {
                        structs.emplace(name, dwarf_dieoffset(&die));
                    } else if (tag == DW_TAG_typedef) {
                        typedefs.emplace(name, dwarf_dieoffset(&die));
                    }
                } while (dwarf_siblingof(&die, &die) == 0);
            }
            offset = next;
        }
    }

    // Follows typedefs and qualifiers to the struct itself; a declaration ("struct _is;" in a
    // unit that only sees the public headers) is replaced by the definition from another unit.
    bool resolve(Dwarf_Die die, Dwarf_Die& out) const {
        for (int hops = 0; hops < 16; ++hops) {
            const int tag = dwarf_tag(&die);
            if (tag == DW_TAG_typedef || tag == DW_TAG_const_type || tag == DW_TAG_volatile_type ||
                tag == DW_TAG_atomic_type) {
                Dwarf_Attribute attr;
                if (dwarf_attr(&die, DW_AT_type, &attr) == nullptr ||
                    dwarf_formref_die(&attr, &die) == nullptr) {
                    return false;
                }
                continue;
            }
            if ((tag == DW_TAG_structure_type || tag == DW_TAG_union_type) &&
                dwarf_hasattr(&die, DW_AT_declaration)) {
                const char* name = dwarf_diename(&die);
                auto it = name != nullptr ? structs.find(name) : structs.end();
                return it != structs.end() && dwarf_offdie(dwarf, it->second, &out) != nullptr;
            }
            out = die;
            return true;
        }
        return false;
    }

    bool find_type(std::string_view type, Dwarf_Die& out) const {
        std::string name(type);
        if (name.starts_with("struct ")) {
            name.erase(0, 7);
        } else if (auto it = typedefs.find(name); it != typedefs.end()) {
            Dwarf_Die die;
            return dwarf_offdie(dwarf, it->second, &die) != nullptr && resolve(die, out);
        }
        auto it = structs.find(name);
        return it != structs.end() && dwarf_offdie(dwarf, it->second, &out) != nullptr;
    }

    static bool member_location(Dwarf_Die& member, std::uint64_t& offset) {
        Dwarf_Attribute attr;
        if (dwarf_attr(&member, DW_AT_data_member_location, &attr) == nullptr) {
            offset = 0; // union members
            return true;
        }
        Dwarf_Word value = 0;
        if (dwarf_formudata(&attr, &value) == 0) {
            offset = value;
            return true;
        }
        Dwarf_Op* ops = nullptr;
        std::size_t count = 0;
        if (dwarf_getlocation(&attr, &ops, &count) == 0 && count == 1 &&
            ops[0].atom == DW_OP_plus_uconst) {
            offset = ops[0].number;
            return true;
        }
        return false;
    }

    // Finds `name` among the members of `aggregate`, descending into anonymous members.
    bool find_member(Dwarf_Die aggregate,
                     std::string_view name,
                     Dwarf_Die& found,
                     std::uint64_t& offset,
                     int depth = 0) const {
        Dwarf_Die child;
        if (depth > 8 || dwarf_child(&aggregate, &child) != 0) {
            return false;
        }
        do {
            if (dwarf_tag(&child) != DW_TAG_member) {
                continue;
            }
            std::uint64_t here = 0;
            if (!member_location(child, here)) {
                continue;
            }
            const char* member_name = dwarf_diename(&child);
            if (member_name != nullptr && name == member_name) {
                found = child;
                offset = here;
                return true;
            }
            Dwarf_Attribute attr;
            Dwarf_Die type;
            Dwarf_Die inner;
            if (member_name == nullptr && dwarf_attr(&child, DW_AT_type, &attr) != nullptr &&
                dwarf_formref_die(&attr, &type) != nullptr && resolve(type, inner) &&
                find_member(inner, name, found, offset, depth + 1)) {
                offset += here;
                return true;
            }
        } while (dwarf_siblingof(&child, &child) == 0);
        return false;
    }
};

DwarfTypes::DwarfTypes()
    : handle_(std::make_unique<Handle>()) {}
DwarfTypes::DwarfTypes(DwarfTypes&&) noexcept = default;
DwarfTypes& DwarfTypes::operator=(DwarfTypes&&) noexcept = default;
DwarfTypes::~DwarfTypes() = default;

std::optional<DwarfTypes> DwarfTypes::open(const std::string& path) {
    DwarfTypes types;
    auto& h = *types.handle_;
    h.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (h.fd < 0) {
        return std::nullopt;
    }
    h.dwarf = dwarf_begin(h.fd, DWARF_C_READ);
    if (h.dwarf == nullptr) {
        return std::nullopt;
    }
    h.index();
    return types;
}

std::optional<std::uint64_t> DwarfTypes::size_of(std::string_view type) const {
    Dwarf_Die die;
    Dwarf_Word size = 0;
    if (!handle_->find_type(type, die) || dwarf_aggregate_size(&die, &size) != 0) {
        return std::nullopt;
    }
    return size;
}

std::optional<DwarfTypes::Member> DwarfTypes::member(std::string_view type,
                                                     std::string_view path) const {
    Dwarf_Die current;
    if (!handle_->find_type(type, current)) {
        return std::nullopt;
    }
    Member result;
    while (!path.empty()) {
        const auto dot = path.find('.');
        const auto name = path.substr(0, dot);
        path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);

        Dwarf_Die member;
        std::uint64_t offset = 0;
        if (!handle_->find_member(current, name, member, offset)) {
            return std::nullopt;
        }
        result.offset += offset;
        Dwarf_Attribute attr;
        Dwarf_Die type_die;
        Dwarf_Word size = 0;
        if (dwarf_attr(&member, DW_AT_type, &attr) == nullptr ||
            dwarf_formref_die(&attr, &type_die) == nullptr) {
            return std::nullopt;
        }
        // A flexible array member (dk_indices[]) has no size; it counts as 0 bytes.
        result.size = dwarf_aggregate_size(&type_die, &size) == 0 ? size : 0;
        if (!path.empty() && !handle_->resolve(type_die, current)) {
            return std::nullopt;
        }
    }
    return result;
}

std::optional<std::int64_t> DwarfTypes::enumerator(std::string_view name) const {
    auto it = handle_->enumerators.find(std::string(name));
    if (it == handle_->enumerators.end()) {
        return std::nullopt;
    }
    return it->second;
}

} // namespace cpuprof::test
