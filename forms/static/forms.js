/* Banyan forms: live show/hide, required, computed values and messages, from the JSON rules
   the server embeds (forms/client.py). No eval: a small interpreter walks the JSON trees with
   the same null rules as the server. The server re-checks everything on submit. */
(function () {
  "use strict";
  var UNITS = { "亿": 1e8, "万": 1e4, "千": 1e3 };
  var USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY";

  function tidy(x) { return typeof x === "number" ? parseFloat(x.toPrecision(15)) : x; }
  function isUscc(code) {
    if (typeof code !== "string" || code.length !== 18) return false;
    var total = 0, w = 1;
    for (var i = 0; i < 17; i++) {
      var v = USCC.indexOf(code[i]);
      if (v < 0) return false;
      total += v * w; w = (w * 3) % 31;
    }
    if (USCC.indexOf(code[17]) < 0) return false;
    return USCC[(31 - total % 31) % 31] === code[17];
  }
  function roundHalfAway(x, d) { var f = Math.pow(10, d || 0); return Math.sign(x) * Math.round(Math.abs(x) * f) / f; }
  var FUNCS = {
    abs: Math.abs, round: roundHalfAway, len: function (x) { return x.length; },
    lower: function (s) { return s.toLowerCase(); }, upper: function (s) { return s.toUpperCase(); },
    trim: function (s) { return s.trim(); }, contains: function (c, x) { return c.indexOf(x) >= 0; },
    starts_with: function (s, p) { return s.indexOf(p) === 0; },
    ends_with: function (s, p) { return s.slice(s.length - p.length) === p; },
    is_uscc: isUscc,
    year: function (d) { return +d.slice(0, 4); }, month: function (d) { return +d.slice(5, 7); },
    day: function (d) { return +d.slice(8, 10); }
  };
  var EMPTY = { count: 0, any: false, all: true, sum: 0, avg: null, min: null, max: null };

  function ev(n, env) {
    if (n === null) return null;
    var op = n[0], a, b, c;
    switch (op) {
      case "lit": return n[1];
      case "var": return env.hasOwnProperty(n[1]) ? env[n[1]] : null;
      case "get":
        a = ev(n[1], env);
        if (a === null || a === undefined) return null;
        if (Array.isArray(a)) return a.map(function (r) { return r === null ? null : (r[n[2]] === undefined ? null : r[n[2]]); });
        return a[n[2]] === undefined ? null : a[n[2]];
      case "not": a = ev(n[1], env); return a === null ? (n[2] ? true : null) : !a;
      case "neg": a = ev(n[1], env); return a === null ? null : -a;
      case "and": case "or":
        var stop = op === "and" ? false : true;
        a = ev(n[1], env); if (a === stop) return stop;
        b = ev(n[2], env); if (b === stop) return stop;
        return (a === !stop && b === !stop) ? !stop : null;
      case "+": case "-": case "*": case "/":
        a = ev(n[1], env); b = ev(n[2], env);
        if (a === null || b === null) return null;
        if (op === "+") return tidy(a + b);
        if (op === "-") return tidy(a - b);
        if (op === "*") return tidy(a * b);
        return b === 0 ? null : tidy(a / b);
      case "cmp":
        a = ev(n[2], env); b = ev(n[3], env);
        if (n[4] && (n[1] === "==" || n[1] === "!=")) return n[1] === "==" ? a === b : a !== b;
        if (a === null || b === null) return null;
        switch (n[1]) {
          case "==": return a === b; case "!=": return a !== b; case "<": return a < b;
          case "<=": return a <= b; case ">": return a > b; default: return a >= b;
        }
      case "isnull": a = ev(n[1], env); return n[2] ? a !== null : a === null;
      case "in":
        a = ev(n[1], env); b = ev(n[2], env);
        if (b === null || (a === null && !n[4])) return null;
        c = b.indexOf(a) >= 0; return n[3] ? !c : c;
      case "between":
        a = ev(n[1], env); b = ev(n[2], env); c = ev(n[3], env);
        if (a === null || b === null || c === null) return null;
        return b <= a && a <= c;
      case "if": return ev(n[1], env) === true ? ev(n[2], env) : ev(n[3], env);
      case "list": return n.slice(1).map(function (x) { return ev(x, env); });
      case "call": return call(n[1], n.slice(2).map(function (x) { return ev(x, env); }));
      case "where":
        a = ev(n[1], env); if (a === null) return null;
        return a.filter(function (x) { return x !== null && ev(n[4], bind(env, n[3], x)) === true; });
      case "agg": return aggregate(n, env);
    }
    return null;
  }
  function bind(env, name, value) { var e = Object.create(env); e[name] = value; return e; }
  function call(name, args) {
    if (name === "is_null") return args[0] === null;
    if (name === "coalesce") { for (var i = 0; i < args.length; i++) if (args[i] !== null) return args[i]; return null; }
    if (args.some(function (x) { return x === null; })) return null;
    if ((name === "min" || name === "max")) return Math[name].apply(null, args);
    return FUNCS[name] ? FUNCS[name].apply(null, args) : null;
  }
  function aggregate(n, env) {
    var name = n[1], coll = ev(n[2], env), param = n[3], body = n[4];
    if (coll === null) return EMPTY[name];
    var items = coll.filter(function (x) { return x !== null; });
    if (name === "count") return body === null ? items.length : items.filter(function (x) { return ev(body, bind(env, param, x)) === true; }).length;
    var vals = body === null ? items : items.map(function (x) { return ev(body, bind(env, param, x)); });
    if (name === "any") return vals.indexOf(true) >= 0;
    if (name === "all") return vals.indexOf(false) < 0;
    vals = vals.filter(function (v) { return v !== null; });
    if (name === "sum") return tidy(vals.reduce(function (s, v) { return s + v; }, 0));
    if (!vals.length) return null;
    if (name === "avg") return tidy(vals.reduce(function (s, v) { return s + v; }, 0) / vals.length);
    return Math[name].apply(null, vals);
  }
  function test(tree, env) { return tree ? ev(tree, env) === true : null; }

  /* ---- reading inputs ------------------------------------------------------------------ */
  function parseAmount(text) {
    var s = text.replace(/[,，\s¥￥]/g, "").replace(/元$/, ""), f = 1;
    if (s && UNITS[s.slice(-1)]) { f = UNITS[s.slice(-1)]; s = s.slice(0, -1); }
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return undefined;
    return tidy(parseFloat(s) * f);
  }
  function decimals(text) { var m = text.replace(/[,，\s]/g, "").match(/\.(\d*?)0*[亿万千元]?$/); return m ? m[1].length : 0; }

  /* returns {value, bad: message code or null} */
  function readValue(root, key, rule) {
    var t = rule.type, els = root.querySelectorAll('[name="' + key + '"]');
    if (t === "multi_enum") {
      var chosen = []; els.forEach(function (e) { if (e.checked) chosen.push(e.value); });
      return { value: chosen.length ? chosen : null };
    }
    if (t === "bool") { var on = false; els.forEach(function (e) { if (e.type === "checkbox" && e.checked) on = true; }); return { value: on }; }
    var el = null;
    els.forEach(function (e) { if (e.type === "radio") { if (e.checked) el = e; } else if (e.type !== "hidden") el = e; });
    if (!el || el.type === "file") return { value: el && el.files && el.files.length ? el.files[0].name : null };
    var text = el.value;
    if (t === "text") return { value: text.trim() ? text : null };
    text = text.trim();
    if (!text) return { value: null };
    if (t === "integer") return /^[+-]?\d{1,18}$/.test(text.replace(/,/g, "")) ? { value: parseInt(text.replace(/,/g, ""), 10) } : { value: null, bad: "integer" };
    if (t === "money" || t === "number") {
      var v = parseAmount(text);
      if (v === undefined) return { value: null, bad: "number" };
      if (rule.scale !== undefined && decimals(text) > rule.scale && !UNITS[text.slice(-1)]) return { value: null, bad: "scale" };
      return { value: v };
    }
    if (t === "percent") { var p = parseFloat(text.replace(/%$/, "").replace(/,/g, "")); return isNaN(p) ? { value: null, bad: "percent" } : { value: tidy(p / 100) }; }
    if (t === "date") return /^\d{4}-\d{2}-\d{2}$/.test(text) ? { value: text } : { value: null, bad: "date" };
    return { value: text };
  }
  function clear(root, key) {
    root.querySelectorAll('[name="' + key + '"]').forEach(function (e) {
      if (e.type === "hidden") return;
      if (e.type === "checkbox" || e.type === "radio") e.checked = false; else e.value = "";
    });
  }

  /* ---- messages ------------------------------------------------------------------------ */
  function fmt(template, slots) { return template.replace(/\{(\w+)\}/g, function (_, k) { return slots[k] === undefined ? "" : slots[k]; }); }
  function problem(rule, value, bad, required, env, msgs) {
    if (bad) return fmt(msgs[bad], { limit: rule.scale });
    if (value === null || (Array.isArray(value) && !value.length)) return required ? msgs.required : "";
    if (typeof value === "string") {
      if (rule.min_length !== undefined && value.length < rule.min_length) return fmt(msgs.min_length, { limit: rule.min_length });
      if (rule.max_length !== undefined && value.length > rule.max_length) return fmt(msgs.max_length, { limit: rule.max_length });
      if (rule.pattern) { try { if (!new RegExp(rule.pattern).test(value)) return msgs.pattern; } catch (e) { /* a pattern only Python reads: the server checks it */ } }
    }
    if (rule.min !== undefined && typeof value === typeof rule.min && value < rule.min) return fmt(msgs.min, { limit: rule.min_text });
    if (rule.max !== undefined && typeof value === typeof rule.max && value > rule.max) return fmt(msgs.max, { limit: rule.max_text });
    if (rule.check && ev(rule.check, env) === false) return rule.check_message || fmt(msgs.check, { rule: rule.check_text });
    return "";
  }
  function wanYi(v, lang) {
    var a = Math.abs(v), units = lang === "en" ? [[1e9, " billion", 2], [1e6, " million", 2]] : [[1e8, "亿", 4], [1e4, "万", 4]];
    for (var i = 0; i < units.length; i++) if (a >= units[i][0]) return parseFloat((v / units[i][0]).toFixed(units[i][2])) + units[i][1];
    return "";
  }
  function displayValue(rule, v, lang) {
    if (v === null || v === undefined) return "—";
    if (rule.type === "percent") return parseFloat((v * 100).toFixed(2)) + "%";
    if (typeof v === "number") {
      var s = rule.scale === undefined ? undefined : rule.scale;
      return (rule.type === "money" ? "¥" : "") + v.toLocaleString("en-US", { minimumFractionDigits: s, maximumFractionDigits: s === undefined ? 6 : s });
    }
    if (typeof v === "boolean") return v ? (lang === "en" ? "Yes" : "是") : (lang === "en" ? "No" : "否");
    return String(v);
  }

  /* ---- one form ------------------------------------------------------------------------ */
  function Form(form, prog) {
    this.form = form; this.p = prog; this.touched = {}; this.dirty = {};
    this.all = !!form.querySelector(".bf-summary:not([hidden])");
  }
  Form.prototype.wrap = function (key) { return this.form.querySelector('[data-bf-field="' + key + '"]'); };
  Form.prototype.show = function (key, visible, cell) {
    var w = this.wrap(key); if (!w) return;
    var box = cell ? (w.querySelector(".bf-cell") || w) : w;
    box.hidden = !visible;
  };
  Form.prototype.setError = function (key, text) {
    var w = this.wrap(key); if (!w) return;
    var e = w.querySelector("[data-bf-error]");
    if (e && e.textContent !== text) e.textContent = text;
    var input = w.querySelector('[name="' + key + '"]:not([type=hidden])') || w.querySelector("fieldset");
    if (input) input.setAttribute("aria-invalid", text ? "true" : "false");
  };
  Form.prototype.setRequired = function (key, on) {
    var w = this.wrap(key); if (!w) return;
    var mark = w.querySelector("[data-bf-req]"); if (mark) mark.hidden = !on;
    var input = w.querySelector('[name="' + key + '"]:not([type=hidden])');
    if (input) { if (on) input.setAttribute("aria-required", "true"); else input.removeAttribute("aria-required"); }
  };
  Form.prototype.rows = function (key) {
    var body = this.form.querySelector('[data-bf-table="' + key + '"] [data-bf-rows]');
    return body ? Array.prototype.slice.call(body.querySelectorAll("tr[data-bf-row]")) : [];
  };
  Form.prototype.collect = function () {
    var self = this, values = {}, bad = {};
    Object.keys(this.p.fields).forEach(function (name) {
      var rule = self.p.fields[name];
      if (rule.type === "table") {
        values[name] = self.rows(name).map(function (tr) {
          var row = {}, i = tr.getAttribute("data-bf-row");
          Object.keys(rule.columns).forEach(function (c) {
            var r = readValue(tr, name + "." + i + "." + c, rule.columns[c]);
            row[c] = r.value; if (r.bad) bad[name + "." + i + "." + c] = r.bad;
          });
          return row;
        });
      } else if (rule.editable) {
        var r = readValue(self.form, name, rule); values[name] = r.value; if (r.bad) bad[name] = r.bad;
      }
    });
    return { values: values, bad: bad };
  };
  Form.prototype.fields = function (rules, prefix, values, env, bad, errors) {
    var self = this, msgs = this.p.messages;
    Object.keys(rules).forEach(function (name) {
      var rule = rules[name], key = prefix + name;
      if (rule.visible && test(rule.visible, env) !== true) {
        self.show(key, false, prefix !== "");
        if (rule.on_hidden !== "keep" && rule.editable && values[name] !== null && rule.type !== "table") { clear(self.form, key); values[name] = null; env[name] = null; }
        self.setError(key, "");
        rule._hidden = true;
      } else { self.show(key, true, prefix !== ""); rule._hidden = false; }
    });
    Object.keys(rules).forEach(function (name) {
      var rule = rules[name], key = prefix + name;
      if (rule._hidden || !rule.editable || rule.type === "table") return;
      var required = rule.required || (rule.required_when ? test(rule.required_when, env) === true : false);
      self.setRequired(key, required);
      errors[key] = problem(rule, values[name], bad[key], required, env, msgs);
    });
  };
  Form.prototype.update = function () {
    var self = this, got = this.collect(), values = got.values, env = Object.assign({}, values), errors = {};
    (this.p.compute_order || []).forEach(function (name) {
      var rule = self.p.fields[name];
      if (!rule || !rule.compute) return;
      var v = ev(rule.compute, env); values[name] = env[name] = v;
      var out = self.wrap(name); out = out && out.querySelector("[data-bf-output]");
      if (out) out.textContent = displayValue(rule, v, self.p.lang);
    });
    Object.keys(this.p.sections).forEach(function (id) {
      var sec = self.form.querySelector('[data-bf-section="' + id + '"]');
      if (sec && self.p.sections[id]) sec.hidden = test(self.p.sections[id], env) !== true;
    });
    this.fields(this.p.fields, "", values, env, got.bad, errors);
    Object.keys(this.p.fields).forEach(function (name) {
      var rule = self.p.fields[name];
      if (rule.type !== "table" || rule._hidden) return;
      var rows = values[name];
      self.rows(name).forEach(function (tr, pos) {
        var i = tr.getAttribute("data-bf-row"), row = rows[pos];
        self.fields(rule.columns, name + "." + i + ".", row, Object.assign({}, row, { form: env }), got.bad, errors);
      });
      var n = rows.length, msg = "";
      if (rule.min_rows !== null && n < rule.min_rows) msg = fmt(self.p.messages.min_rows, { limit: rule.min_rows });
      if (rule.max_rows !== null && n > rule.max_rows) msg = fmt(self.p.messages.max_rows, { limit: rule.max_rows });
      errors[name] = msg;
    });
    this.p.validations.forEach(function (v) {
      if (!v.rule || ev(v.rule, env) !== false) return;
      var target = v.fields.filter(function (f) { return !(self.p.fields[f] || {})._hidden; })[0];
      if (target && !errors[target]) errors[target] = v.message;
    });
    Object.keys(errors).forEach(function (key) {
      var top = key.split(".")[0];
      if (self.all || self.touched[key] || self.touched[top]) self.setError(key, errors[key]);
    });
    this.form.querySelectorAll("[data-bf-amount]").forEach(function (input) {
      var hint = input.closest(".bf-field"); hint = hint && hint.querySelector("[data-bf-hint]");
      if (!hint) return;
      var v = parseAmount(input.value || "");
      hint.textContent = v === undefined ? "" : wanYi(v, self.p.lang);
    });
  };

  /* ---- tables, tabs, lookups ----------------------------------------------------------- */
  Form.prototype.addRow = function (key) {
    var tpl = this.form.querySelector('template[data-bf-template="' + key + '"]');
    var body = this.form.querySelector('[data-bf-table="' + key + '"] [data-bf-rows]');
    if (!tpl || !body) return;
    var next = 0;
    this.rows(key).forEach(function (tr) { next = Math.max(next, +tr.getAttribute("data-bf-row") + 1); });
    var html = tpl.innerHTML.replace(/__i__/g, String(next));
    body.insertAdjacentHTML("beforeend", html);
    var row = body.lastElementChild;
    row.querySelector(".bf-rownum").textContent = String(this.rows(key).length);
    var first = row.querySelector("input:not([type=hidden]), select, textarea"); if (first) first.focus();
  };
  function tabs(form) {
    var list = form.querySelector("[data-bf-tablist]"); if (!list) return;
    var buttons = Array.prototype.slice.call(list.querySelectorAll("[data-bf-tab]"));
    list.hidden = false; list.setAttribute("role", "tablist");
    function select(btn, focus) {
      buttons.forEach(function (b) {
        var on = b === btn, panel = document.getElementById(b.getAttribute("data-bf-tab"));
        b.setAttribute("aria-selected", on ? "true" : "false"); b.tabIndex = on ? 0 : -1;
        if (panel) panel.hidden = !on;
      });
      if (focus) btn.focus();
    }
    buttons.forEach(function (b, i) {
      var panel = document.getElementById(b.getAttribute("data-bf-tab"));
      b.setAttribute("role", "tab"); b.setAttribute("aria-controls", panel.id);
      panel.setAttribute("role", "tabpanel"); panel.setAttribute("aria-labelledby", b.id);
      var heading = panel.querySelector(".bf-tab-heading"); if (heading) heading.classList.add("sr-only");
      b.addEventListener("click", function () { select(b); });
      b.addEventListener("keydown", function (e) {
        var d = e.key === "ArrowRight" ? 1 : e.key === "ArrowLeft" ? -1 : 0;
        if (d) { e.preventDefault(); select(buttons[(i + d + buttons.length) % buttons.length], true); }
      });
    });
    var withError = buttons.filter(function (b) {
      var p = document.getElementById(b.getAttribute("data-bf-tab"));
      return Array.prototype.some.call(p.querySelectorAll("[data-bf-error]"), function (e) { return e.textContent.trim(); });
    })[0];
    select(withError || buttons[0]);
  }
  function lookup(input) {
    var list = document.getElementById(input.getAttribute("aria-controls")), timer = null, active = -1, items = [];
    function close() { list.hidden = true; input.setAttribute("aria-expanded", "false"); input.removeAttribute("aria-activedescendant"); active = -1; }
    function choose(i) { input.value = items[i].key; close(); input.dispatchEvent(new Event("change", { bubbles: true })); }
    function mark(i) {
      active = i;
      Array.prototype.forEach.call(list.children, function (li, j) { li.setAttribute("aria-selected", j === i ? "true" : "false"); });
      if (list.children[i]) input.setAttribute("aria-activedescendant", list.children[i].id);
    }
    function fill(data) {
      items = data; list.textContent = "";
      data.forEach(function (it, i) {
        var li = document.createElement("li");
        li.id = input.id + "-opt-" + i; li.setAttribute("role", "option"); li.setAttribute("aria-selected", "false");
        var k = document.createElement("span"); k.className = "bf-opt-key"; k.textContent = it.key;
        var l = document.createElement("span"); l.className = "bf-opt-label"; l.textContent = it.label;
        li.appendChild(l); li.appendChild(k);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); choose(i); });
        list.appendChild(li);
      });
      list.hidden = !data.length; input.setAttribute("aria-expanded", data.length ? "true" : "false");
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (!q) { close(); return; }
      timer = setTimeout(function () {
        fetch(input.getAttribute("data-bf-lookup") + (input.getAttribute("data-bf-lookup").indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(q),
              { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (r) { return r.ok ? r.json() : []; }).then(fill).catch(function () { close(); });
      }, 180);
    });
    input.addEventListener("keydown", function (e) {
      if (list.hidden) return;
      if (e.key === "ArrowDown") { e.preventDefault(); mark(Math.min(active + 1, items.length - 1)); }
      else if (e.key === "ArrowUp") { e.preventDefault(); mark(Math.max(active - 1, 0)); }
      else if (e.key === "Enter" && active >= 0) { e.preventDefault(); choose(active); }
      else if (e.key === "Escape") close();
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
  }

  function init(form) {
    var data = document.getElementById(form.getAttribute("data-bf-form"));
    if (!data) return;
    var f = new Form(form, JSON.parse(data.textContent));
    form.classList.add("bf-live");
    form.querySelectorAll(".bf-refresh").forEach(function (b) { b.hidden = true; });
    function touch(e) {
      var name = e.target.name; if (!name) return;
      f.touched[name] = true; f.touched[name.split(".")[0]] = true;
    }
    form.addEventListener("input", function (e) { if (e.target.name) f.dirty[e.target.name] = true; f.update(); });
    form.addEventListener("change", function (e) {
      if (e.target.hasAttribute("data-bf-remove-row")) { var tr = e.target.closest("tr"); tr.parentNode.removeChild(tr); }
      touch(e); f.update();
    });
    /* leaving a field shows its messages only once it was edited: no message, and no layout
       shift under the pointer, for a field merely tabbed through */
    form.addEventListener("focusout", function (e) { if (f.dirty[e.target.name]) { touch(e); f.update(); } });
    form.addEventListener("click", function (e) {
      var add = e.target.closest("[data-bf-add-row]");
      if (add) { e.preventDefault(); f.addRow(add.getAttribute("data-bf-add-row")); f.update(); }
    });
    form.querySelectorAll("[data-bf-remove-row]").forEach(function (box) { box.closest("label").classList.add("bf-remove-live"); });
    form.querySelectorAll("[data-bf-lookup]").forEach(lookup);
    tabs(form);
    f.update();
    var summary = form.querySelector(".bf-summary:not([hidden])"); if (summary) summary.focus();
  }
  document.addEventListener("DOMContentLoaded", function () { document.querySelectorAll("form[data-bf-form]").forEach(init); });
  window.BanyanForms = { evaluate: ev, isUscc: isUscc, parseAmount: parseAmount };
})();
