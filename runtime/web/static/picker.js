/* The people picker (transfer, delegate, add a signer, CC): an input[data-picker="single|multi"]
   becomes a search box (name, user name, unit or role; /ui/people?q=) with the chosen people as
   chips, and a browse of the org tree (/ui/people/units, each unit's people from /ui/people?unit=).
   The form still posts user names: the original input keeps them (comma-separated), hidden.
   Without JavaScript the input stays a text input with the datalist of the people one may pick.
   Words come from the input's data-picker-* attributes (the page's language). */
(function () {
  "use strict";
  var seq = 0;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); });
  }

  function describe(p) {
    return [p.unit_label].concat(p.roles || []).filter(Boolean).join(" · ");
  }

  function Picker(input) {
    var self = this, id = "picker-" + (++seq);
    this.input = input;
    this.multi = input.getAttribute("data-picker") === "multi";
    this.words = function (k) { return input.getAttribute("data-picker-" + k) || ""; };
    this.chosen = [];
    input.removeAttribute("list");
    input.type = "hidden";
    this.wrap = el("div", { "class": "picker" });
    input.parentNode.insertBefore(this.wrap, input);
    this.wrap.appendChild(input);
    this.chips = el("div", { "class": "picker-chips", "aria-live": "polite" });
    var row = el("div", { "class": "picker-row" });
    this.search = el("input", { "type": "search", "id": id, "role": "combobox", "aria-autocomplete": "list",
      "aria-expanded": "false", "aria-controls": id + "-list", "autocomplete": "off",
      "placeholder": this.words("search"), "aria-label": this.words("search") });
    var label = input.id && document.querySelector("label[for='" + input.id + "']");
    if (label) label.setAttribute("for", id);
    this.browse = el("button", { "type": "button", "class": "button small", "aria-expanded": "false",
      "aria-controls": id + "-tree" }, this.words("browse"));
    row.appendChild(this.search);
    row.appendChild(this.browse);
    this.list = el("ul", { "class": "picker-list", "role": "listbox", "id": id + "-list", "hidden": "" });
    this.tree = el("div", { "class": "picker-tree", "id": id + "-tree", "hidden": "" });
    this.wrap.appendChild(this.chips);
    this.wrap.appendChild(row);
    this.wrap.appendChild(this.list);
    this.wrap.appendChild(this.tree);
    this.active = -1;
    this.found = [];
    var timer = null;
    this.search.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { self.lookup(self.search.value.trim()); }, 200);
    });
    this.search.addEventListener("keydown", function (e) { self.key(e); });
    this.search.addEventListener("blur", function () { window.setTimeout(function () { self.close(); }, 150); });
    this.browse.addEventListener("click", function () { self.toggleTree(); });
    var form = input.form;
    if (form) form.addEventListener("submit", function (e) {
      if (!self.input.value && self.input.hasAttribute("required")) {
        e.preventDefault();
        e.stopImmediatePropagation();
        self.search.setCustomValidity(self.words("none"));
        self.search.reportValidity();
      }
    }, true);
    this.search.addEventListener("input", function () { self.search.setCustomValidity(""); });
    this.restore();
  }

  Picker.prototype.restore = function () {
    var self = this;
    var names = this.input.value.split(/[\s,，、;；]+/).filter(Boolean);
    names.forEach(function (name) {
      self.add({ name: name, label: name, unit_label: "", roles: [] });
      getJSON("/ui/people?q=" + encodeURIComponent(name)).then(function (data) {
        var p = (data.people || []).filter(function (x) { return x.name === name; })[0];
        if (p) { self.chosen = self.chosen.map(function (c) { return c.name === name ? p : c; }); self.render(); }
      }).catch(function () {});
    });
  };

  Picker.prototype.lookup = function (q) {
    var self = this;
    if (!q) { this.close(); return; }
    getJSON("/ui/people?q=" + encodeURIComponent(q)).then(function (data) {
      if (self.search.value.trim() !== q) return;
      self.show(data.people || [], data.more);
    }).catch(function () { self.close(); });
  };

  Picker.prototype.show = function (people, more) {
    var self = this;
    this.found = people;
    this.active = -1;
    this.list.textContent = "";
    if (!people.length) this.list.appendChild(el("li", { "class": "picker-note", "role": "presentation" }, this.words("none")));
    people.forEach(function (p, i) {
      var li = el("li", { "role": "option", "id": self.search.id + "-opt-" + i, "aria-selected": "false" });
      li.appendChild(el("span", {}, p.label));
      li.appendChild(document.createTextNode(" "));
      li.appendChild(el("span", { "class": "who-unit" }, describe(p)));
      li.addEventListener("mousedown", function (e) { e.preventDefault(); self.pick(p); });
      self.list.appendChild(li);
    });
    if (more) this.list.appendChild(el("li", { "class": "picker-note", "role": "presentation" }, this.words("more")));
    this.list.hidden = false;
    this.search.setAttribute("aria-expanded", "true");
  };

  Picker.prototype.close = function () {
    this.list.hidden = true;
    this.search.setAttribute("aria-expanded", "false");
    this.search.removeAttribute("aria-activedescendant");
  };

  Picker.prototype.key = function (e) {
    var options = this.list.querySelectorAll("[role=option]");
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      if (this.list.hidden || !options.length) return;
      e.preventDefault();
      this.active = (this.active + (e.key === "ArrowDown" ? 1 : options.length - 1)) % options.length;
      Array.prototype.forEach.call(options, function (o, i) { o.setAttribute("aria-selected", String(i === this.active)); }, this);
      this.search.setAttribute("aria-activedescendant", options[this.active].id);
    } else if (e.key === "Enter") {
      if (!this.list.hidden && this.found.length) {
        e.preventDefault();
        this.pick(this.found[this.active >= 0 ? this.active : 0]);
      }
    } else if (e.key === "Escape") {
      this.close();
    }
  };

  Picker.prototype.add = function (p) {
    if (this.multi) {
      if (!this.chosen.some(function (c) { return c.name === p.name; })) this.chosen.push(p);
    } else {
      this.chosen = [p];
    }
    this.render();
  };

  Picker.prototype.pick = function (p) {
    this.add(p);
    this.search.value = "";
    this.search.setCustomValidity("");
    this.close();
    this.search.focus();
  };

  Picker.prototype.render = function () {
    var self = this;
    this.input.value = this.chosen.map(function (c) { return c.name; }).join(",");
    this.chips.textContent = "";
    this.chosen.forEach(function (c) {
      var chip = el("span", { "class": "picker-chip", "data-user": c.name, "title": describe(c) }, c.label);
      var x = el("button", { "type": "button", "aria-label": self.words("remove") + " " + c.label }, "×");
      x.addEventListener("click", function () {
        self.chosen = self.chosen.filter(function (o) { return o.name !== c.name; });
        self.render();
        self.search.focus();
      });
      chip.appendChild(x);
      self.chips.appendChild(chip);
    });
  };

  Picker.prototype.toggleTree = function () {
    var self = this, open = this.tree.hidden;
    this.tree.hidden = !open;
    this.browse.setAttribute("aria-expanded", String(open));
    if (!open || this.tree.getAttribute("data-loaded")) return;
    this.tree.setAttribute("data-loaded", "1");
    getJSON("/ui/people/units").then(function (units) {
      units.forEach(function (u) {
        var unit = el("details", { "data-unit": u.unit });
        unit.style.marginLeft = (u.depth * 14) + "px";
        var summary = el("summary", {}, u.label);
        summary.appendChild(el("span", { "class": "unit-count" }, "(" + u.count + ")"));
        unit.appendChild(summary);
        unit.addEventListener("toggle", function () {
          if (!unit.open || unit.getAttribute("data-loaded")) return;
          unit.setAttribute("data-loaded", "1");
          getJSON("/ui/people?unit=" + encodeURIComponent(u.unit)).then(function (data) {
            var ul = el("ul", {});
            (data.people || []).forEach(function (p) {
              var li = el("li", {}), b = el("button", { "type": "button", "data-user": p.name }, p.label);
              b.addEventListener("click", function () { self.add(p); });
              li.appendChild(b);
              li.appendChild(el("span", { "class": "who-unit" }, " " + (p.roles || []).join("、")));
              ul.appendChild(li);
            });
            unit.appendChild(ul);
          });
        });
        self.tree.appendChild(unit);
      });
    });
  };

  function init() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-picker]"), function (input) {
      if (!input.getAttribute("data-picker-ready")) {
        input.setAttribute("data-picker-ready", "1");
        new Picker(input);
      }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init); else init();
})();
