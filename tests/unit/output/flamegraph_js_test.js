"use strict";
// Exercises flamegraph.js (zoom, search, text fitting) on a minimal fake SVG DOM shaped like the
// renderer's output for the output tests' sample profile. Usage: node flamegraph_js_test.js FILE
const assert = require("assert");
const fs = require("fs");
const vm = require("vm");

class ClassList {
    constructor() { this.names = new Set(); }
    add(name) { this.names.add(name); }
    remove(name) { this.names.delete(name); }
    contains(name) { return this.names.has(name); }
    toggle(name, on) {
        if (on === undefined) { on = !this.names.has(name); }
        if (on) { this.names.add(name); } else { this.names.delete(name); }
        return on;
    }
}

class Element {
    constructor(tag, attributes, children) {
        this.tagName = tag;
        this.attributes = Object.assign({}, attributes || {});
        this.children = children || [];
        this.children.forEach((child) => { child.parentNode = this; });
        this.classList = new ClassList();
        this.textContent = "";
        this.listeners = {};
    }
    getAttribute(name) { return name in this.attributes ? String(this.attributes[name]) : null; }
    setAttribute(name, value) { this.attributes[name] = String(value); }
    getElementsByTagName(tag) {
        const found = [];
        const walk = (element) => element.children.forEach((child) => {
            if (child.tagName === tag) { found.push(child); }
            walk(child);
        });
        walk(this);
        return found;
    }
    addEventListener(type, listener) { (this.listeners[type] = this.listeners[type] || []).push(listener); }
    dispatch(type, target, extra) {
        (this.listeners[type] || []).forEach((listener) =>
            listener(Object.assign({target: target || this, preventDefault() {}}, extra || {})));
    }
}

function box(label, start, samples, depth, fill) {
    const title = new Element("title");
    title.textContent = label + "\nsamples: " + samples;
    return new Element("g", {"data-s": start, "data-n": samples, "data-d": depth}, [
        title, new Element("rect", {x: 0, width: 0, fill: fill}), new Element("text", {x: 0})]);
}

const layout = [
    ["all", 0, 100, 0], ["main (app.py:10)", 0, 100, 1], ["a:b (semi.py:1)", 0, 7, 2],
    ["deflate (libz.so.1)", 0, 7, 3], ["함수 (app.py:20)", 7, 80, 2], ["main (app.py:12)", 7, 5, 3],
    ["🔥 (fire.py:3)", 87, 13, 2], ["render<&>\"' (tmpl.py:7)", 87, 10, 3],
];
const groups = layout.map(([label, s, n, d], i) => box(label, s, n, d, "rgb(" + i + ",0,0)"));
const frames = new Element("g", {"data-total": 100, "data-width": 1200, "data-pad": 10,
    "data-font-size": 12, "data-font-width": 0.59, "data-unit": "samples"}, groups);
const elements = {frames: frames};
for (const id of ["details", "matched", "unzoom", "search"]) { elements[id] = new Element("text"); }
elements.unzoom.classList.add("hide");

const prompts = [];
const alerts = [];
const windowListeners = new Element("window");
const context = vm.createContext({
    document: {getElementById: (id) => elements[id] || null},
    window: {
        prompt: () => prompts.shift(),
        alert: (message) => alerts.push(message),
        addEventListener: (type, listener) => windowListeners.addEventListener(type, listener),
    },
});
vm.runInContext(fs.readFileSync(process.argv[2], "utf8"), context, {filename: process.argv[2]});
vm.runInContext("cpuprofInit()", context);
const api = vm.runInContext("cpuprof", context);

// Objects made in the script's context have that context's prototypes: compare plain copies.
const plain = (value) => JSON.parse(JSON.stringify(value));
const byLabel = (label) => api.boxes().find((b) => b.label === label);
const rect = (label) => byLabel(label).rect;
const hidden = (label) => byLabel(label).g.classList.contains("hide");
const near = (actual, expected) => assert.ok(Math.abs(parseFloat(actual) - expected) < 0.01,
    actual + " is not " + expected);

assert.strictEqual(api.boxes().length, 8);

// Search: nested matches count once, the matched share is of all samples.
assert.deepStrictEqual(plain(api.search("함수")), {boxes: 1, samples: 80, percent: 80});
assert.strictEqual(rect("함수 (app.py:20)").getAttribute("fill"), "rgb(230,0,230)");
assert.strictEqual(elements.matched.textContent, "Matched: 80.0% (80 samples)");
assert.strictEqual(elements.search.textContent, "Reset search");
assert.deepStrictEqual(plain(api.search("^main")), {boxes: 2, samples: 100, percent: 100});
assert.deepStrictEqual(plain(api.search("deflate|render<&>")), {boxes: 2, samples: 17, percent: 17});
api.resetSearch();
assert.strictEqual(rect("함수 (app.py:20)").getAttribute("fill"), "rgb(4,0,0)");
assert.strictEqual(elements.matched.textContent, " ");
assert.strictEqual(api.search("(unclosed"), null);
assert.strictEqual(alerts.length, 1);

// The Search button asks for a pattern, and resets when a search is shown.
prompts.push("render");
elements.search.dispatch("click");
assert.strictEqual(elements.matched.textContent, "Matched: 10.0% (10 samples)");
elements.search.dispatch("click");
assert.strictEqual(elements.matched.textContent, " ");

// Zoom by clicking a rect: the box fills the width, its descendants scale, ancestors stay
// (faded), everything else is hidden.
frames.dispatch("click", rect("함수 (app.py:20)"));
assert.strictEqual(api.zoomed().label, "함수 (app.py:20)");
near(rect("함수 (app.py:20)").getAttribute("x"), 10);
near(rect("함수 (app.py:20)").getAttribute("width"), 1180);
near(rect("main (app.py:12)").getAttribute("width"), 1180 * 5 / 80);
assert.ok(byLabel("main (app.py:10)").g.classList.contains("parent"));
near(rect("main (app.py:10)").getAttribute("width"), 1180);
assert.ok(hidden("deflate (libz.so.1)"));
assert.ok(hidden("🔥 (fire.py:3)"));
assert.ok(!hidden("all"));
assert.ok(!elements.unzoom.classList.contains("hide"));
// 73.75 px hold 9 characters of 12 px Verdana.
assert.strictEqual(byLabel("main (app.py:12)").text.textContent, "main (a..");

// Hover shows the details line.
frames.dispatch("mouseover", byLabel("🔥 (fire.py:3)").text);
assert.strictEqual(elements.details.textContent, "🔥 (fire.py:3) (13 samples, 13.00%)");

elements.unzoom.dispatch("click");
assert.strictEqual(api.zoomed(), null);
assert.ok(!hidden("deflate (libz.so.1)"));
assert.ok(!byLabel("main (app.py:10)").g.classList.contains("parent"));
near(rect("함수 (app.py:20)").getAttribute("x"), 10 + 7 * 11.8);
near(rect("함수 (app.py:20)").getAttribute("width"), 80 * 11.8);
assert.ok(elements.unzoom.classList.contains("hide"));

// Escape resets both.
api.search("main");
api.zoom(byLabel("🔥 (fire.py:3)"));
windowListeners.dispatch("keydown", null, {key: "Escape"});
assert.strictEqual(api.zoomed(), null);
assert.strictEqual(elements.matched.textContent, " ");

console.log("flamegraph.js: all checks passed");
