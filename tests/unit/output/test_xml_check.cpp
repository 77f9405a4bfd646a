#include "xml_check.hpp"

#include <catch2/catch.hpp>

using cpuprof::test::xml_unescape;
using cpuprof::test::xml_wellformedness_error;

TEST_CASE("the test XML checker accepts well-formed documents", "[output]") {
    CHECK(xml_wellformedness_error("<a/>") == "");
    CHECK(xml_wellformedness_error("<?xml version=\"1.0\"?>\n<!-- c --><a x='1' y=\"&lt;\">"
                                   "t&amp;&#60;&#x3c;<b/><![CDATA[<&]]></a>\n") == "");
    CHECK(xml_unescape("&lt;&amp;&gt;&quot;&apos;&#10;") == "<&>\"'&#10;");
}

TEST_CASE("the test XML checker rejects what browsers reject", "[output]") {
    for (const char* bad :
         {"", "<a>", "<a></b>", "<a><b></a></b>", "<a/><b/>", "<a x=1/>", "<a x=\"<\"/>",
          "<a x=\"1\" x=\"2\"/>", "<a>&bogus;</a>", "<a>&</a>", "<a>x < y</a>", "<a>]]></a>",
          "<a>\x01</a>", "<a>\xff</a>", "text<a/>", "<!DOCTYPE a><a/>", "<a x=\"1\"y=\"2\"/>"}) {
        CAPTURE(bad);
        CHECK_FALSE(xml_wellformedness_error(bad).empty());
    }
}
