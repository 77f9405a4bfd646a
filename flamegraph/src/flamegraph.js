"use strict";
// Interaction for cpuprof flamegraphs: click to zoom, "Reset zoom", regex search with the matched
// share, details on hover. Every box is a <g data-s data-n data-d> holding <title>, <rect>, <text>:
// data-s is where the box starts (in samples), data-n its samples, data-d its depth.
var cpuprof = (function () {
    var highlight = "rgb(230,0,230)";
    var config = {};
    var boxes = [];
    var frames, details, matched, unzoomButton, searchButton;
    var zoomedBox = null;
    var searchTerm = null;

    function attribute(element, name) {
        return parseFloat(element.getAttribute(name));
    }

    function describe(box) {
        var share = config.total > 0 ? (100 * box.n / config.total).toFixed(2) : "0.00";
        return box.label + " (" + box.n + " " + config.unit + ", " + share + "%)";
    }

    function fitText(box, width) {
        var chars = Math.floor((width - 6) / (config.fontSize * config.fontWidth));
        var codePoints = Array.from(box.label);
        if (chars < 3) {
            box.text.textContent = "";
        } else if (codePoints.length <= chars) {
            box.text.textContent = box.label;
        } else {
            box.text.textContent = codePoints.slice(0, chars - 2).join("") + "..";
        }
    }

    function place(box, x, width) {
        box.rect.setAttribute("x", x.toFixed(2));
        box.rect.setAttribute("width", width.toFixed(2));
        box.text.setAttribute("x", (x + 3).toFixed(2));
        fitText(box, width);
    }

    function setVisible(element, visible) {
        element.classList.toggle("hide", !visible);
    }

    function zoom(target) {
        var inner = config.width - 2 * config.pad;
        var scale = inner / Math.max(target.n, 1);
        boxes.forEach(function (box) {
            var ancestor = box.d < target.d && box.s <= target.s &&
                box.s + box.n >= target.s + target.n;
            var inside = box.d >= target.d && box.s >= target.s &&
                box.s + box.n <= target.s + target.n;
            setVisible(box.g, ancestor || inside);
            box.g.classList.toggle("parent", ancestor);
            if (ancestor) {
                place(box, config.pad, inner);
            } else if (inside) {
                place(box, config.pad + (box.s - target.s) * scale, box.n * scale);
            }
        });
        zoomedBox = target;
        setVisible(unzoomButton, true);
    }

    function unzoom() {
        var scale = config.total > 0 ? (config.width - 2 * config.pad) / config.total : 0;
        boxes.forEach(function (box) {
            setVisible(box.g, true);
            box.g.classList.remove("parent");
            place(box, config.pad + box.s * scale, box.d === 0 ? config.width - 2 * config.pad
                                                                : box.n * scale);
        });
        zoomedBox = null;
        setVisible(unzoomButton, false);
    }

    // The union of the matched intervals: a match nested in another match is counted once.
    function coveredSamples(matches) {
        matches.sort(function (a, b) { return a.s - b.s || b.n - a.n; });
        var covered = 0;
        var end = -1;
        matches.forEach(function (box) {
            var start = Math.max(box.s, end);
            var stop = box.s + box.n;
            if (stop > start) {
                covered += stop - start;
                end = stop;
            }
        });
        return covered;
    }

    function search(term) {
        var pattern;
        try {
            pattern = new RegExp(term);
        } catch (error) {
            window.alert("Not a valid regular expression: " + error.message);
            return null;
        }
        var matches = [];
        boxes.forEach(function (box) {
            var hit = pattern.test(box.label);
            box.rect.setAttribute("fill", hit ? highlight : box.fill);
            if (hit) {
                matches.push(box);
            }
        });
        var covered = coveredSamples(matches.slice());
        var share = config.total > 0 ? (100 * covered / config.total).toFixed(1) : "0.0";
        searchTerm = term;
        searchButton.textContent = "Reset search";
        matched.textContent = "Matched: " + share + "% (" + covered + " " + config.unit + ")";
        return {boxes: matches.length, samples: covered, percent: parseFloat(share)};
    }

    function resetSearch() {
        boxes.forEach(function (box) { box.rect.setAttribute("fill", box.fill); });
        searchTerm = null;
        searchButton.textContent = "Search";
        matched.textContent = " ";
    }

    function askSearch() {
        if (searchTerm !== null) {
            resetSearch();
            return;
        }
        var term = window.prompt("Search frames (regular expression):", "");
        if (term) {
            search(term);
        }
    }

    function boxOf(element) {
        while (element && element !== frames) {
            if (element.cpuprofBox) {
                return element.cpuprofBox;
            }
            element = element.parentNode;
        }
        return null;
    }

    function init() {
        frames = document.getElementById("frames");
        details = document.getElementById("details");
        matched = document.getElementById("matched");
        unzoomButton = document.getElementById("unzoom");
        searchButton = document.getElementById("search");
        config = {
            total: attribute(frames, "data-total"),
            width: attribute(frames, "data-width"),
            pad: attribute(frames, "data-pad"),
            fontSize: attribute(frames, "data-font-size"),
            fontWidth: attribute(frames, "data-font-width"),
            unit: frames.getAttribute("data-unit")
        };
        boxes = [];
        var groups = frames.getElementsByTagName("g");
        for (var i = 0; i < groups.length; ++i) {
            var g = groups[i];
            var rect = g.getElementsByTagName("rect")[0];
            var box = {
                g: g,
                rect: rect,
                text: g.getElementsByTagName("text")[0],
                label: g.getElementsByTagName("title")[0].textContent.split("\n")[0],
                s: attribute(g, "data-s"),
                n: attribute(g, "data-n"),
                d: attribute(g, "data-d"),
                fill: rect.getAttribute("fill")
            };
            g.cpuprofBox = box;
            boxes.push(box);
        }
        frames.addEventListener("click", function (event) {
            var box = boxOf(event.target);
            if (box) {
                zoom(box);
            }
        });
        frames.addEventListener("mouseover", function (event) {
            var box = boxOf(event.target);
            details.textContent = box ? describe(box) : " ";
        });
        frames.addEventListener("mouseout", function () { details.textContent = " "; });
        unzoomButton.addEventListener("click", unzoom);
        searchButton.addEventListener("click", askSearch);
        matched.addEventListener("click", resetSearch);
        window.addEventListener("keydown", function (event) {
            if ((event.ctrlKey || event.metaKey) && event.key === "f") {
                event.preventDefault();
                askSearch();
            } else if (event.key === "Escape") {
                resetSearch();
                unzoom();
            }
        });
    }

    return {
        init: init,
        zoom: zoom,
        unzoom: unzoom,
        search: search,
        resetSearch: resetSearch,
        boxes: function () { return boxes; },
        zoomed: function () { return zoomedBox; }
    };
})();

function cpuprofInit() {
    cpuprof.init();
}
