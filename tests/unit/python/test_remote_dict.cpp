#include "object_image.hpp"

#include "cpuprof/python/remote_dict.hpp"
#include "cpuprof/python/remote_object.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

using namespace cpuprof;
using namespace cpuprof::python;
using test::ObjectImage;

namespace {

const PyOffsets& table(int minor) {
    const PyOffsets* offsets = static_offsets(3, minor);
    REQUIRE(offsets != nullptr);
    return *offsets;
}

std::vector<RemoteAddr> visited_keys(ObjectImage& image,
                                     const DictStorage& storage,
                                     std::size_t max_entries = kMaxDictEntries) {
    std::vector<RemoteAddr> keys;
    const bool ok = for_each_item(
        image.memory(), image.offsets(), storage,
        [&](const DictItem& item) {
            keys.push_back(item.key);
            return true;
        },
        max_entries);
    CHECK(ok);
    return keys;
}

} // namespace

TEST_CASE("str keys are found in combined dicts of every layout", "[python][dict]") {
    const int minor = GENERATE(8, 9, 10, 11, 12, 13);
    CAPTURE(minor);
    ObjectImage image(table(minor));
    auto& memory = image.memory();
    const auto& offsets = image.offsets();
    const RemoteAddr alpha = image.ascii("alpha");
    const RemoteAddr threading = image.ascii("threading");
    const RemoteAddr latin1 = image.str(U"thr\u00e9ading");
    const RemoteAddr v1 = image.ascii("v1");
    const RemoteAddr v2 = image.ascii("v2");
    const RemoteAddr v3 = image.ascii("v3");

    // A deleted slot (null key) and a same-length non-ASCII key sit before the one looked up.
    const RemoteAddr unicode_dict =
        image.dict({{alpha, v1}, {0, 0}, {latin1, v3}, {threading, v2}});
    CHECK(dict_get_str(memory, offsets, unicode_dict, "threading") == v2);
    CHECK(dict_get_str(memory, offsets, unicode_dict, "alpha") == v1);
    CHECK(dict_get_str(memory, offsets, unicode_dict, "threadin") == 0);
    CHECK(dict_get_str(memory, offsets, unicode_dict, "missing") == 0);

    // General tables ({hash, key, value} entries) also hold keys that are not str.
    const RemoteAddr seven = image.int_value(7);
    const RemoteAddr general_dict = image.dict({{seven, v1}, {threading, v3}}, false);
    CHECK(dict_get_str(memory, offsets, general_dict, "threading") == v3);

    const std::array<std::string_view, 3> names = {"threading", "nothing", "alpha"};
    const auto storage = dict_storage(memory, offsets, unicode_dict);
    REQUIRE(storage);
    const auto found = find_str_keys(memory, offsets, *storage, names);
    REQUIRE(found);
    CHECK(*found == std::vector<RemoteAddr>{v2, 0, v1});
}

TEST_CASE("for_each_item walks big tables in insertion order", "[python][dict]") {
    const int minor = GENERATE(10, 11, 12, 13);
    CAPTURE(minor);
    ObjectImage image(table(minor));
    // 300 items need 512 slots: two-byte indices, so the entries start 1 KiB past the header.
    std::vector<DictItem> items;
    std::vector<RemoteAddr> live;
    for (int i = 0; i < 300; ++i) {
        if (i % 7 == 3) {
            items.push_back({0, 0});
            continue;
        }
        const RemoteAddr key = image.int_value(static_cast<std::uint64_t>(i));
        items.push_back({key, key});
        live.push_back(key);
    }
    const RemoteAddr dict = image.dict(items, false);
    const auto storage = dict_storage(image.memory(), image.offsets(), dict);
    REQUIRE(storage);
    CHECK(visited_keys(image, *storage) == live);

    // The cap counts slots, deleted ones included: slot 3 of the first 10 is deleted.
    CHECK(visited_keys(image, *storage, 10) ==
          std::vector<RemoteAddr>(live.begin(), live.begin() + 9));

    int calls = 0;
    CHECK(for_each_item(image.memory(), image.offsets(), *storage,
                        [&](const DictItem&) { return ++calls < 5; }));
    CHECK(calls == 5);
}

TEST_CASE("split tables take their values from the values array", "[python][dict]") {
    const int minor = GENERATE(8, 9, 10, 11, 12, 13);
    CAPTURE(minor);
    ObjectImage image(table(minor));
    auto& memory = image.memory();
    const auto& offsets = image.offsets();
    const RemoteAddr target = image.ascii("_target");
    const RemoteAddr name = image.ascii("_name");
    const RemoteAddr daemon = image.ascii("_daemonic");
    const RemoteAddr keys =
        image.keys({{target, 0}, {name, 0}, {daemon, 0}}, ObjectImage::KeysKind::Split);
    const RemoteAddr worker = image.ascii("worker");
    // This instance never set _daemonic: its value slot is empty.
    const RemoteAddr dict = image.dict(keys, image.values({image.none(), worker, 0}));
    CHECK(dict_get_str(memory, offsets, dict, "_name") == worker);
    CHECK(dict_get_str(memory, offsets, dict, "_daemonic") == 0);
    const auto storage = dict_storage(memory, offsets, dict);
    REQUIRE(storage);
    CHECK(visited_keys(image, *storage) == std::vector<RemoteAddr>{target, name});
}

TEST_CASE("3.13 values arrays stop at their capacity", "[python][dict]") {
    ObjectImage image(table(13));
    const RemoteAddr a = image.ascii("a");
    const RemoteAddr b = image.ascii("b");
    const RemoteAddr c = image.ascii("c");
    // The shared keys grew to three after this instance's two-slot values were made.
    const RemoteAddr keys = image.keys({{a, 0}, {b, 0}, {c, 0}}, ObjectImage::KeysKind::Split);
    const RemoteAddr dict = image.dict(keys, image.values({a, b}));
    const auto storage = dict_storage(image.memory(), image.offsets(), dict);
    REQUIRE(storage);
    CHECK(storage->value_count == 2);
    CHECK(visited_keys(image, *storage) == std::vector<RemoteAddr>{a, b});
}

TEST_CASE("keys objects that make no sense are rejected", "[python][dict]") {
    const int minor = GENERATE(10, 12);
    CAPTURE(minor);
    ObjectImage image(table(minor));
    auto& memory = image.memory();
    const auto& offsets = image.offsets();
    const auto& d = offsets.dict;
    const RemoteAddr key = image.ascii("key");
    const auto fresh_keys = [&] {
        return image.keys({{key, key}, {key, key}, {key, key}}, ObjectImage::KeysKind::Unicode);
    };
    const auto rejected = [&](RemoteAddr keys) {
        bool visited = false;
        const bool ok = for_each_item(memory, offsets, DictStorage{keys, 0},
                                      [&](const DictItem&) { return visited = true; });
        return !ok && !visited && dict_get_str(memory, offsets, image.dict(keys), "key") == 0;
    };
    const auto at = [](RemoteAddr base, Offset offset) {
        return base + static_cast<RemoteAddr>(offset);
    };

    CHECK_FALSE(rejected(fresh_keys()));
    CHECK(rejected(0x7000));

    RemoteAddr keys = fresh_keys();
    memory.put<std::int64_t>(at(keys, d.dk_nentries), 1000); // more entries than slots
    CHECK(rejected(keys));

    keys = fresh_keys();
    memory.put<std::int64_t>(at(keys, d.dk_nentries), -1);
    CHECK(rejected(keys));

    keys = fresh_keys();
    memory.put<std::int64_t>(at(keys, d.dk_nentries), 8); // past the 5 usable entries mapped
    CHECK(rejected(keys));

    if (minor <= 10) {
        keys = fresh_keys();
        memory.put<std::int64_t>(at(keys, d.dk_size), 12);
        CHECK(rejected(keys));
        keys = fresh_keys();
        memory.put<std::int64_t>(at(keys, d.dk_size), std::int64_t{1} << 40);
        CHECK(rejected(keys));
    } else {
        keys = fresh_keys();
        memory.put<std::uint8_t>(at(keys, d.dk_kind), 5);
        CHECK(rejected(keys));
        keys = fresh_keys();
        memory.put<std::uint8_t>(at(keys, d.dk_log2_index_bytes), 2); // smaller than log2_size
        CHECK(rejected(keys));
        keys = fresh_keys();
        memory.put<std::uint8_t>(at(keys, d.dk_log2_size), 200);
        CHECK(rejected(keys));
    }
    CHECK_FALSE(dict_storage(memory, offsets, 0x7000));
}

TEST_CASE("str_equals compares compact ASCII strings only", "[python][dict]") {
    const int minor = GENERATE(8, 11, 12);
    CAPTURE(minor);
    ObjectImage image(table(minor));
    auto& memory = image.memory();
    const auto& offsets = image.offsets();
    const RemoteAddr name = image.ascii("_name");
    CHECK(str_equals(memory, offsets, name, "_name"));
    CHECK_FALSE(str_equals(memory, offsets, name, "_nam"));
    CHECK_FALSE(str_equals(memory, offsets, name, "_namf"));
    CHECK_FALSE(str_equals(memory, offsets, image.str(U"w\u00f6rk"), "work"));
    CHECK_FALSE(str_equals(memory, offsets, image.int_value(0x656d616e5f), "_name"));
    CHECK_FALSE(str_equals(memory, offsets, 0x7000, "_name"));
    CHECK(str_equals(memory, offsets, image.ascii(""), ""));
}

TEST_CASE("read_uint64 decodes non-negative ints up to 64 bits", "[python][dict]") {
    const int minor = GENERATE(8, 11, 12, 13);
    CAPTURE(minor);
    ObjectImage image(table(minor));
    auto& memory = image.memory();
    const auto& offsets = image.offsets();
    for (const std::uint64_t value :
         {std::uint64_t{0}, std::uint64_t{5}, std::uint64_t{1} << 30, std::uint64_t{0x7f3a5c1ff640},
          std::uint64_t{1} << 63, std::numeric_limits<std::uint64_t>::max()}) {
        CAPTURE(value);
        CHECK(read_uint64(memory, offsets, image.int_value(value)) == value);
    }
    CHECK_FALSE(read_uint64(memory, offsets, image.int_digits({5}, true)));
    CHECK_FALSE(read_uint64(memory, offsets, image.int_digits({1, 0, 0, 1}))); // 91+ bits
    CHECK_FALSE(read_uint64(memory, offsets, image.int_digits({0, 0, 16})));   // 2^64
    CHECK_FALSE(read_uint64(memory, offsets, image.int_digits({1U << 30})));   // not a digit
    CHECK_FALSE(read_uint64(memory, offsets, 0x7000));
}

TEST_CASE("instance attributes are found in every storage of every version", "[python][dict]") {
    const int minor = GENERATE(8, 9, 10, 11, 12, 13);
    const bool materialized = GENERATE(false, true);
    CAPTURE(minor, materialized);
    ObjectImage image(table(minor));
    auto& memory = image.memory();
    const auto& offsets = image.offsets();
    const auto cls = image.heap_class(
        "Thread", {image.ascii("_target"), image.ascii("_name"), image.ascii("_ident")});
    const RemoteAddr name = image.ascii("sleepy-worker");
    const RemoteAddr thread = image.instance(cls, {image.none(), name, 0}, materialized);
    CHECK(instance_attribute(memory, offsets, thread, "_name") == name);
    CHECK(instance_attribute(memory, offsets, thread, "_target") == image.none());
    CHECK(instance_attribute(memory, offsets, thread, "_ident") == 0);
    CHECK(instance_attribute(memory, offsets, thread, "_daemonic") == 0);

    // An object whose type keeps no instance dict, and addresses that are not objects.
    const RemoteAddr plain = image.object(image.type("object", 0, 0), 16);
    CHECK_FALSE(instance_attributes(memory, offsets, plain));
    CHECK_FALSE(instance_attributes(memory, offsets, 0x7000));
}

TEST_CASE("managed attribute storage follows each version's rules", "[python][dict]") {
    SECTION("3.12 tells values from a dict by the tag bit") {
        ObjectImage image(table(12));
        const auto cls = image.heap_class("T", {image.ascii("_name")});
        const RemoteAddr name = image.ascii("n");
        const RemoteAddr values = image.values({name});
        const RemoteAddr obj = image.object(cls.type, 16, 32);
        image.put_pointer(obj - 24, values - 1);
        CHECK(instance_attribute(image.memory(), image.offsets(), obj, "_name") == name);
        image.put_pointer(obj - 24, values); // untagged: read as a dict, which it is not
        CHECK(instance_attribute(image.memory(), image.offsets(), obj, "_name") == 0);
        image.put_pointer(obj - 24, 0);
        CHECK_FALSE(instance_attributes(image.memory(), image.offsets(), obj));
    }
    SECTION("3.13 ignores inline values marked invalid and follows a dict sharing them") {
        ObjectImage image(table(13));
        const auto cls = image.heap_class("T", {image.ascii("_name")});
        const RemoteAddr name = image.ascii("n");
        const RemoteAddr obj = image.instance(cls, {name});
        CHECK(instance_attribute(image.memory(), image.offsets(), obj, "_name") == name);
        // vars(obj) makes a dict whose values are still the object's inline values.
        const RemoteAddr inline_values = obj + 16;
        image.put_pointer(obj - 24, image.dict(cls.keys, inline_values));
        CHECK(instance_attribute(image.memory(), image.offsets(), obj, "_name") == name);
        image.put_pointer(obj - 24, 0);
        image.memory().put<std::uint8_t>(inline_values + 3, 0); // valid = 0
        CHECK_FALSE(instance_attributes(image.memory(), image.offsets(), obj));
    }
    SECTION("3.8 rejects dict offsets that cannot be fields") {
        ObjectImage image(table(8));
        const RemoteAddr negative = image.object(image.type("V", 1U << 9, -8), 32);
        CHECK_FALSE(instance_attributes(image.memory(), image.offsets(), negative));
        const RemoteAddr huge = image.object(image.type("H", 1U << 9, 1 << 30), 32);
        CHECK_FALSE(instance_attributes(image.memory(), image.offsets(), huge));
    }
}
