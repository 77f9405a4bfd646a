#include "cpuprof/python/version.hpp"

#include <catch2/catch.hpp>

using namespace cpuprof::python;

TEST_CASE("PythonVersion prints and orders", "[python][version]") {
    CHECK(PythonVersion{3, 12, 1}.str() == "3.12.1");
    CHECK(PythonVersion{3, 9, 0}.str() == "3.9.0");
    CHECK(PythonVersion{3, 9, 18} < PythonVersion{3, 10, 0});
    CHECK(PythonVersion{3, 11, 7}.at_least(3, 11));
    CHECK_FALSE(PythonVersion{3, 10, 13}.at_least(3, 11));
    CHECK(PythonVersion{4, 0, 0}.at_least(3, 13));
    CHECK(PythonVersion{3, 12, 1}.same_minor(3, 12));
    CHECK_FALSE(PythonVersion{3, 12, 1}.same_minor(3, 13));
}

TEST_CASE("version_from_hex decodes PY_VERSION_HEX", "[python][version]") {
    CHECK(version_from_hex(0x030C01F0) == PythonVersion{3, 12, 1});
    CHECK(version_from_hex(0x030D00F0) == PythonVersion{3, 13, 0});
    CHECK(version_from_hex(0x030800A1) == PythonVersion{3, 8, 0});  // alpha 1
    CHECK(version_from_hex(0x030B07C2) == PythonVersion{3, 11, 7}); // release candidate 2
    CHECK_FALSE(version_from_hex(0));
    CHECK_FALSE(version_from_hex(0x030C0100));   // release level 0 does not exist
    CHECK_FALSE(version_from_hex(0x7964627567)); // bytes of a string, not a version
    CHECK_FALSE(version_from_hex(0x1'030C01F0ULL));
    CHECK_FALSE(version_from_hex(0x03FF01F0)); // minor 255
}

TEST_CASE("version_from_string reads Py_GetVersion text", "[python][version]") {
    CHECK(version_from_string("3.12.1 (main, Jan  1 2024, 00:00:00) [GCC 12.2.0]") ==
          PythonVersion{3, 12, 1});
    CHECK(version_from_string("3.13.0rc1+ (heads/3.13:abc)") == PythonVersion{3, 13, 0});
    CHECK(version_from_string("Python 3.8.18") == PythonVersion{3, 8, 18});
    CHECK(version_from_string("  3.10.13") == PythonVersion{3, 10, 13});
    CHECK(version_from_string("3.11") == PythonVersion{3, 11, 0});
    CHECK_FALSE(version_from_string(""));
    CHECK_FALSE(version_from_string("main 3.12.1"));
    CHECK_FALSE(version_from_string("3."));
    CHECK_FALSE(version_from_string("3.x.1"));
    CHECK_FALSE(version_from_string("0.1.2"));
    CHECK_FALSE(version_from_string("3.123.1"));
}

TEST_CASE("version_from_filename finds the minor version", "[python][version]") {
    CHECK(version_from_filename("/usr/lib/libpython3.12.so.1.0") == PythonVersion{3, 12, 0});
    CHECK(version_from_filename("python3.11") == PythonVersion{3, 11, 0});
    CHECK(version_from_filename("/usr/lib/x86_64-linux-gnu/libpython3.9d.so") ==
          PythonVersion{3, 9, 0});
    CHECK(version_from_filename("/root/.pyenv/versions/3.8.18/bin/python3.8") ==
          PythonVersion{3, 8, 0});
    CHECK(version_from_filename("libpython3.7m.so.1.0") == PythonVersion{3, 7, 0});
    // Only the file name counts: the directory says 3.12, the file is an unversioned python3.
    CHECK_FALSE(version_from_filename("/usr/lib/python3.12/bin/python3"));
    CHECK_FALSE(version_from_filename("/usr/bin/python"));
    CHECK_FALSE(version_from_filename("/usr/lib/libc.so.6"));
    CHECK_FALSE(version_from_filename(""));
}
