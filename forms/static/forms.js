/* Banyan forms: live show/hide, required, computed values and messages, from the JSON rules
   the server embeds (forms/client.py). No eval: a small interpreter walks the type-checked trees
   with the language's own arithmetic and null rules (dsl/expr/README.md); a differential test
   (tests/forms/test_differential.py) holds it equal to the Python evaluator. The server re-checks
   everything on submit. */
(function () {
  "use strict";
  var USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY";

  /* ---- exact numbers (dsl/expr/README.md, "Arithmetic") --------------------------------------
     A whole number is a BigInt, a decimal a Dec: a BigInt coefficient times 10^e. Whole with whole
     stays whole and exact; a result with a decimal in it is rounded to 28 significant digits, half
     to even; division always gives a decimal; round() is half away from zero. Python's decimal
     module computes the same numbers. */
  var PREC = 28, EMAX = 999999, ETINY = -999999 - 27;
  function Dec(c, e) { this.c = c; this.e = e; }
  /* the evaluation failed where Python's fails too (a value missing where one is needed, a
     number out of range): the rule counts as null, as on the server */
  function Fail(reason) { this.reason = reason; }
  function isNum(x) { return typeof x === "bigint" || x instanceof Dec; }
  function dec(x) { return typeof x === "bigint" ? new Dec(x, 0) : x; }
  function mag(a) { return a < 0n ? -a : a; }
  function ndigits(a) { return a === 0n ? 1 : mag(a).toString().length; }
  function pow10(n) { return 10n ** BigInt(n); }
  function number(x) { if (!isNum(x)) throw new Fail(x === null ? "missing" : "wrong_kind"); return x; }
  function shrink(a, drop, up, sticky) {          /* a >= 0 divided by 10^drop, rounded at the half */
    var p = pow10(drop), q = a / p, twice = 2n * (a % p);
    if (twice > p || (twice === p && (up || sticky || (q & 1n) === 1n))) q += 1n;
    return q;
  }
  function fit(c, e, sticky) {                    /* to 28 significant digits, half to even */
    var a = mag(c), n = ndigits(a);
    if (n > PREC) {
      a = shrink(a, n - PREC, false, sticky); e += n - PREC;
      if (a === pow10(PREC)) { a = pow10(PREC - 1); e += 1; }
    }
    if (a !== 0n && e + ndigits(a) - 1 > EMAX) throw new Fail("too_large");
    return new Dec(c < 0n ? -a : a, e);
  }
  function parseDec(s) {
    var m = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
    if (!m || !(m[2] + (m[3] || ""))) return undefined;
    var frac = m[3] || "";
    return new Dec(BigInt(m[1] + (m[2] + frac || "0")), (m[4] ? parseInt(m[4], 10) : 0) - frac.length);
  }
  function add(x, y) {
    if (typeof x === "string" && typeof y === "string") return x + y;
    x = number(x); y = number(y);
    if (typeof x === "bigint" && typeof y === "bigint") return x + y;
    var a = dec(x), b = dec(y);
    if (a.c === 0n) return fit(b.c, b.e);
    if (b.c === 0n) return fit(a.c, a.e);
    var hi = a.e >= b.e ? a : b, lo = hi === a ? b : a;
    /* far below the last digit kept, the smaller one only decides the rounding (as Python does) */
    var floor = hi.e + Math.min(-1, ndigits(hi.c) - PREC - 2);
    if (lo.e + ndigits(lo.c) - 1 < floor) lo = new Dec(lo.c < 0n ? -1n : 1n, floor);
    return fit(hi.c * pow10(hi.e - lo.e) + lo.c, lo.e);
  }
  function neg(x) { x = number(x); return typeof x === "bigint" ? -x : fit(-x.c, x.e); }
  function sub(x, y) {
    x = number(x); y = number(y);
    if (typeof x === "bigint" && typeof y === "bigint") return x - y;
    y = dec(y); return add(x, new Dec(-y.c, y.e));
  }
  function mul(x, y) {
    x = number(x); y = number(y);
    if (typeof x === "bigint" && typeof y === "bigint") return x * y;
    var a = dec(x), b = dec(y);
    return fit(a.c * b.c, a.e + b.e);
  }
  function isZero(x) { return typeof x === "bigint" ? x === 0n : x.c === 0n; }
  function divide(x, y) {                         /* null for null or a zero divisor */
    if (x === null || y === null) return null;
    x = number(x); y = number(y);
    if (isZero(y)) return null;
    var a = dec(x), b = dec(y);
    if (a.c === 0n) return new Dec(0n, 0);
    var k = Math.max(0, PREC + 2 + ndigits(b.c) - ndigits(a.c));
    var num = mag(a.c) * pow10(k), den = mag(b.c), q = num / den;
    return fit((a.c < 0n) !== (b.c < 0n) ? -q : q, a.e - b.e - k, num % den !== 0n);
  }
  function cmpNum(x, y) {
    if (typeof x === "bigint" && typeof y === "bigint") return x < y ? -1 : x > y ? 1 : 0;
    var a = dec(x), b = dec(y);
    var sa = a.c < 0n ? -1 : a.c > 0n ? 1 : 0, sb = b.c < 0n ? -1 : b.c > 0n ? 1 : 0;
    if (sa !== sb) return sa < sb ? -1 : 1;
    if (sa === 0) return 0;
    var ea = a.e + ndigits(a.c), eb = b.e + ndigits(b.c);
    if (ea !== eb) return ea < eb ? -sa : sa;
    var e = Math.min(a.e, b.e), ca = a.c * pow10(a.e - e), cb = b.c * pow10(b.e - e);
    return ca < cb ? -1 : ca > cb ? 1 : 0;
  }
  function quantize(x, exp, up) {                /* x to exponent `exp`, as Decimal.quantize */
    var a = dec(number(x)), c;
    if (!(ETINY <= exp && exp <= EMAX)) throw new Fail("bad_number");
    if (a.c === 0n) return new Dec(0n, exp);
    var adj = a.e + ndigits(a.c) - 1;
    if (adj > EMAX || adj - exp + 1 > PREC) throw new Fail("bad_number");
    if (exp <= a.e) c = a.c * pow10(a.e - exp);
    else { c = shrink(mag(a.c), exp - a.e, up, false); if (a.c < 0n) c = -c; }
    if (ndigits(c) > PREC || (c !== 0n && exp + ndigits(c) - 1 > EMAX)) throw new Fail("bad_number");
    return new Dec(c, exp);
  }
  function roundHalfAway(x, digits) {             /* round(x, digits): a whole number stays whole */
    number(x);
    var d = digits === undefined ? 0 : Number(number(digits));
    if (typeof x === "bigint" && d >= 0) return x;
    var q = quantize(x, -d, true);
    return typeof x === "bigint" ? q.c * pow10(q.e) : q;
  }
  function absolute(x) { x = number(x); return typeof x === "bigint" ? mag(x) : fit(mag(x.c), x.e); }

  /* ---- text, dates, equality and order as Python has them ------------------------------- */
  var PY_SPACE = "[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
  var STRIP = new RegExp("^" + PY_SPACE + "+|" + PY_SPACE + "+$", "g");
  function text(x) { if (typeof x !== "string") throw new Fail(x === null ? "missing" : "wrong_kind"); return x; }
  function cmpText(a, b) {                        /* by code point, not by UTF-16 unit */
    if (a === b) return 0;
    var n = Math.min(a.length, b.length);
    for (var i = 0; i < n; i++) {
      var x = a.codePointAt(i), y = b.codePointAt(i);
      if (x !== y) return x < y ? -1 : 1;
      if (x > 0xffff) i++;
    }
    return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
  }
  function eq(a, b) {
    if (a === null || b === null) return a === b;
    if (isNum(a) && isNum(b)) return cmpNum(a, b) === 0;
    return a === b;
  }
  function order(a, b) {                          /* Python's <: null or mixed kinds fail */
    if (isNum(a) && isNum(b)) return cmpNum(a, b);
    if (typeof a === "string" && typeof b === "string") return cmpText(a, b);
    throw new Fail(a === null || b === null ? "missing" : "wrong_kind");
  }
  function isDate(x) { return typeof x === "string" && /^\d{4}-\d{2}-\d{2}$/.test(x); }
  function datePart(x, from, to) { if (!isDate(x)) throw new Fail("wrong_kind"); return +x.slice(from, to); }
  function dayNumber(x) {                         /* days since 1970-01-01, proleptic Gregorian */
    var y = datePart(x, 0, 4), m = datePart(x, 5, 7), d = datePart(x, 8, 10);
    y -= m <= 2 ? 1 : 0;
    var era = Math.floor(y / 400), yoe = y - era * 400;
    var doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
    return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
  }
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
  function member(list, x) {
    if (!Array.isArray(list)) throw new Fail(list === null ? "missing" : "wrong_kind");
    return list.some(function (e) { return eq(x, e); });
  }
  function smallest(values, sign) {               /* Python's min/max: the first of the extremes */
    var best = values[0];
    for (var i = 1; i < values.length; i++) if (order(values[i], best) * sign < 0) best = values[i];
    return best;
  }
  var FUNCS = {
    abs: absolute, round: roundHalfAway,
    len: function (x) { return BigInt(Array.isArray(x) ? x.length : Array.from(text(x)).length); },
    lower: function (s) { return text(s).toLowerCase(); }, upper: function (s) { return text(s).toUpperCase(); },
    trim: function (s) { return text(s).replace(STRIP, ""); },
    contains: function (c, x) { return typeof c === "string" ? c.indexOf(text(x)) >= 0 : member(c, x); },
    starts_with: function (s, p) { return text(s).startsWith(text(p)); },
    ends_with: function (s, p) { return text(s).endsWith(text(p)); },
    is_uscc: isUscc,
    year: function (d) { return BigInt(datePart(d, 0, 4)); }, month: function (d) { return BigInt(datePart(d, 5, 7)); },
    day: function (d) { return BigInt(datePart(d, 8, 10)); },
    quarter: function (d) { return BigInt(Math.floor((datePart(d, 5, 7) - 1) / 3) + 1); },
    days_between: function (a, b) { return BigInt(dayNumber(b) - dayNumber(a)); },
    min: function () { return smallest(Array.prototype.slice.call(arguments), 1); },
    max: function () { return smallest(Array.prototype.slice.call(arguments), -1); }
  };

  /* ---- the interpreter ------------------------------------------------------------------- */
  function has(o, k) { return Object.prototype.hasOwnProperty.call(o, k) && o[k] !== undefined; }
  function field(row, name) {
    if (row === null || typeof row !== "object" || Array.isArray(row)) throw new Fail(row === null ? "missing" : "wrong_kind");
    return has(row, name) ? row[name] : null;
  }
  /* the operands the checker says may be null are evaluated first and a null one gives null
     (the others are not evaluated); then the rest, in order — as the generated Python does */
  function guarded(nodes, nullable, env) {
    var out = [], i;
    for (i = 0; i < nodes.length; i++) if (nullable[i]) { out[i] = ev(nodes[i], env); if (out[i] === null) return null; }
    for (i = 0; i < nodes.length; i++) if (!nullable[i]) out[i] = ev(nodes[i], env);
    return out;
  }
  function ev(n, env) {
    var op = n[0], a, b, v;
    switch (op) {
      case "lit": return n[1];
      case "int": return BigInt(n[1]);
      case "dec": return parseDec(n[1]);
      case "var": return n[1] in env && env[n[1]] !== undefined ? env[n[1]] : null;
      case "get":
        a = ev(n[1], env);
        return a === null && n[3] ? null : field(a, n[2]);
      case "proj":
        a = ev(n[1], env);
        if (a === null) return null;
        if (!Array.isArray(a)) throw new Fail("wrong_kind");
        return a.map(function (r) { return r === null ? null : field(r, n[2]); });
      case "not": a = ev(n[1], env); return a === null ? (n[2] ? null : true) : !a;
      case "neg": a = ev(n[1], env); return a === null && n[2] ? null : neg(a);
      case "and": case "or":
        var stop = op === "or";
        a = ev(n[1], env);
        if (!n[3]) return (a === true) === stop ? a : ev(n[2], env);       /* Python's own and/or */
        if (a === stop) return stop;
        b = ev(n[2], env);
        if (b === stop) return stop;
        if (!n[4]) return a;
        return (a === !stop && b === !stop) ? !stop : null;
      case "+": case "-": case "*":
        v = guarded([n[1], n[2]], [n[3], n[4]], env);
        if (v === null) return null;
        return op === "+" ? add(v[0], v[1]) : op === "-" ? sub(v[0], v[1]) : mul(v[0], v[1]);
      case "/": a = ev(n[1], env); return divide(a, ev(n[2], env));
      case "cmp":
        v = guarded([n[2], n[3]], [n[4], n[5]], env);
        if (v === null) return null;
        switch (n[1]) {
          case "==": return eq(v[0], v[1]); case "!=": return !eq(v[0], v[1]);
          case "<": return order(v[0], v[1]) < 0; case "<=": return order(v[0], v[1]) <= 0;
          case ">": return order(v[0], v[1]) > 0; default: return order(v[0], v[1]) >= 0;
        }
      case "isnull": a = ev(n[1], env); return n[2] ? a !== null : a === null;
      case "in":
        if (n[6]) {                                /* a list of literals: nulls in it never match */
          a = ev(n[1], env);
          if (a === null && n[4]) return null;
          v = a !== null && member(ev(n[2], env).filter(function (x) { return x !== null; }), a);
        } else {
          v = guarded([n[1], n[2]], [n[4], n[5]], env);
          if (v === null) return null;
          v = member(v[1], v[0]);
        }
        return n[3] ? !v : v;
      case "between":
        v = guarded([n[1], n[2], n[3]], [n[4], n[5], n[6]], env);
        if (v === null) return null;
        return order(v[1], v[0]) <= 0 && order(v[0], v[2]) <= 0;
      case "if": return ev(n[1], env) === true ? ev(n[2], env) : ev(n[3], env);
      case "list": return n.slice(1).map(function (x) { return ev(x, env); });
      case "call": return call(n[1], n[2], n.slice(3), env);
      case "where":
        a = ev(n[1], env); if (a === null) return null;
        return a.filter(function (x) { return x !== null && ev(n[3], bind(env, n[2], x)) === true; });
      case "agg": return aggregate(n, env);
    }
    throw new Error("unknown node " + op);
  }
  function bind(env, name, value) { var e = Object.create(env); e[name] = value; return e; }
  function call(name, nullable, nodes, env) {
    var args;
    if (name === "is_null" || name === "coalesce") {
      args = nodes.map(function (x) { return ev(x, env); });
      if (name === "is_null") return args[0] === null;
      for (var i = 0; i < args.length; i++) if (args[i] !== null) return args[i];
      return null;
    }
    args = guarded(nodes, nullable, env);
    if (args === null) return null;
    if (!FUNCS[name]) throw new Error("unknown function " + name);
    return FUNCS[name].apply(null, args);
  }
  function aggregate(n, env) {
    var name = n[1], coll = ev(n[2], env), param = n[3], body = n[4], zero = n[6] === "int" ? 0n : new Dec(0n, 0);
    if (coll === null) return name === "count" ? 0n : name === "any" ? false : name === "all" ? true : name === "sum" ? zero : null;
    if (!Array.isArray(coll)) throw new Fail("wrong_kind");
    var items = coll.filter(function (x) { return x !== null; });
    var each = function (x) { return body === null ? x : ev(body, bind(env, param, x)); };
    if (name === "count") return BigInt(body === null ? items.length : items.filter(function (x) { return each(x) === true; }).length);
    var vals = items.map(each);
    if (name === "any") return vals.indexOf(true) >= 0;
    if (name === "all") return vals.indexOf(false) < 0;
    if (n[5]) vals = vals.filter(function (v) { return v !== null; });
    if (name === "sum") return vals.reduce(add, zero);
    if (!vals.length) return null;
    if (name === "avg") return divide(vals.reduce(add, vals[0] instanceof Dec ? new Dec(0n, 0) : 0n), BigInt(vals.length));
    return smallest(vals, name === "min" ? 1 : -1);
  }
  function scope(values) { return Object.assign(Object.create(null), values); }

  /* values to and from JSON: {"$int": "5"}, {"$dec": "1.5"}, dates as "YYYY-MM-DD" */
  function fromJSON(v) {
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map(fromJSON);
    if (v.$int !== undefined) return BigInt(v.$int);
    if (v.$dec !== undefined) return parseDec(v.$dec);
    var o = {};
    Object.keys(v).forEach(function (k) { o[k] = fromJSON(v[k]); });
    return o;
  }
  function toJSON(v) {
    if (typeof v === "bigint") return { $int: v.toString() };
    if (v instanceof Dec) return { $dec: v.c.toString() + "E" + v.e };
    if (Array.isArray(v)) return v.map(toJSON);
    if (v !== null && typeof v === "object") {
      var o = {};
      Object.keys(v).forEach(function (k) { o[k] = toJSON(v[k]); });
      return o;
    }
    return v;
  }
  function evaluateJSON(tree, env) {
    try { return toJSON(ev(tree, scope(fromJSON(env)))); } catch (e) {
      if (e instanceof Fail) return { $error: e.reason };
      throw e;
    }
  }

  /* ---- numbers for people ------------------------------------------------------------------ */
  function plain(x) {                              /* digits without an exponent */
    if (typeof x === "bigint") return x.toString();
    var s = mag(x.c).toString(), sign = x.c < 0n ? "-" : "";
    if (x.e >= 0) return sign + s + "0".repeat(x.e);
    s = "0".repeat(Math.max(0, -x.e - s.length + 1)) + s;
    return sign + s.slice(0, s.length + x.e) + "." + s.slice(s.length + x.e);
  }
  function normal(x) {                             /* without trailing zeros */
    x = dec(x);
    var c = x.c, e = x.e;
    if (c === 0n) return new Dec(0n, 0);
    while (c % 10n === 0n) { c /= 10n; e += 1; }
    return new Dec(c, e);
  }
  function grouped(s) { return s.replace(/^(-?\d+)/, function (w) { return w.replace(/\B(?=(\d{3})+$)/g, ","); }); }
  function toScale(x, scale) { try { return quantize(x, -scale, false); } catch (e) { return x; } }
  /* ---- reading what a person typed: the one value model (dsl/values), as forms/values.py reads
     posted text. A reading is {value}, {bad}: a value the server refuses, worded by the server's
     own `values.*` templates (sent with the form), or {unsure}: a value only the server can read
     (a label typed for a code, a date with a time, a number the server cannot hold) — the browser
     says nothing about that field and leaves the word to the server. The unit table, the yes-words
     and the duration units come from the server too (program().reader). ------------------------ */
  var WIDE = { "．": ".", "，": ",", "－": "-", "＋": "+", "％": "%", "−": "-", "（": "(", "）": ")",
               "　": " ", "｡": ".", "Ｅ": "E", "ｅ": "e" };
  var WIDE_RE = /[．，－＋％−（）　｡Ｅｅ]/g;
  var ND = /\p{Nd}/u, ND_ALL = /\p{Nd}/gu;
  var SPACES = new RegExp("(?:" + PY_SPACE + "|['\\u00a0\\u2009\\u202f])+", "g");
  var SPLIT = new RegExp(PY_SPACE + "+");
  var BLANK = new RegExp("^" + PY_SPACE + "*$");
  var CURRENCY = ["¥", "￥", "CNY", "RMB", "rmb", "cny"];
  var NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?$/, GROUPED = /^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/;
  var DATE = /^(\d{4})(?:([-/.])(\d{1,2})\2(\d{1,2})|年(\d{1,2})月(\d{1,2})[日号]?|(\d{2})(\d{2}))/;
  var DURATION = /^(\d+(?:\.\d+)?)([a-z\u4e00-\u9fff]+)$/;
  var LOCAL_MOMENT = /^T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,6})?)?$/;
  var MAX_DIGITS = 30, WHOLE_DIGITS = 24, BIGINT = 2n ** 63n, SHOWN = 40;   /* dsl/values/numbers.py */

  function Bad(code, raw, slots) { this.code = code; this.slots = Object.assign({ value: shown(raw) }, slots || {}); }
  function Unsure() {}
  function shown(raw) {                           /* dsl/values/errors.py shown() */
    var t = String(raw).split(SPLIT).filter(function (s) { return s; }).join(" "), cs = Array.from(t);
    return cs.length <= SHOWN ? t : cs.slice(0, SHOWN - 1).join("") + "…";
  }
  function isBlank(s) { return BLANK.test(s); }
  function digit(ch) {                            /* any decimal digit (Python's \d) as ASCII */
    var cp = ch.codePointAt(0), k = 0;
    while (ND.test(String.fromCodePoint(cp - k - 1))) k++;
    return String(k % 10);
  }
  function asciiDigits(s) { return s.replace(ND_ALL, digit); }
  function asciiText(s) { return asciiDigits(s.replace(WIDE_RE, function (c) { return WIDE[c]; })).replace(SPACES, ""); }
  function isTrue(v, reader) { return typeof v === "string" && reader.true_words.indexOf(v.replace(STRIP, "").toLowerCase()) >= 0; }
  function plainNumber(s, raw, code) {            /* numbers.py _plain, then the context's 28 digits */
    if (s.indexOf(",") >= 0) {
      if (!GROUPED.test(s)) throw new Bad(code, raw);
      s = s.replace(/,/g, "");
    }
    if (!NUMBER.test(s) || (s.match(/\d/g) || []).length > MAX_DIGITS) throw new Bad(code, raw);
    return parseDec(s);
  }
  function scaled(d, power) { return fit(d.c, d.e + power); }     /* Decimal.scaleb */
  function readDecimal(raw, code, reader) {
    var s = asciiText(raw), negative = false, power = 0, i;
    if (s.length > 2 && s[0] === "(" && s[s.length - 1] === ")") { s = s.slice(1, -1); negative = true; }
    for (i = 0; i < CURRENCY.length; i++) {
      if (s.startsWith(CURRENCY[i])) { s = s.slice(CURRENCY[i].length); break; }
      if (s.startsWith("-" + CURRENCY[i])) { s = "-" + s.slice(1 + CURRENCY[i].length); break; }
    }
    for (i = 0; i < reader.units.length; i++) {
      var unit = reader.units[i][0];
      if (s.endsWith(unit)) { s = s.slice(0, s.length - unit.length); power = reader.units[i][1]; break; }
    }
    var d = scaled(plainNumber(s, raw, code), power);
    if (d.c !== 0n && d.e + ndigits(d.c) - 1 >= WHOLE_DIGITS)         /* numbers.py _bounded */
      throw new Bad("number_too_large", raw, { limit: WHOLE_DIGITS });
    return negative ? new Dec(-d.c, d.e) : d;
  }
  function readAmount(raw, scale, reader) {
    var d = readDecimal(raw, "number", reader);
    if (d.e > 0) {                                /* whole(): 5E+8 is 500000000 */
      if (ndigits(d.c) + d.e > PREC) throw new Unsure();   /* more than the server's reader holds */
      d = new Dec(d.c * pow10(d.e), 0);
    }
    if (scale !== undefined && scale !== null && -normal(d).e > scale) throw new Bad("scale", raw, { limit: scale });
    return d;
  }
  function readInteger(raw, reader) {
    var d;
    try { d = readDecimal(raw, "integer", reader); } catch (e) {
      if (e instanceof Bad && e.code === "number_too_large") throw new Bad("too_large", raw);
      throw e;
    }
    if (d.e < 0 && d.c % pow10(-d.e) !== 0n) throw new Bad("integer", raw);
    if (d.e + ndigits(d.c) - 1 >= 19) throw new Bad("too_large", raw);
    var n = d.e >= 0 ? d.c * pow10(d.e) : d.c / pow10(-d.e);
    if (n < -BIGINT || n >= BIGINT) throw new Bad("too_large", raw);
    return n;
  }
  function readPercent(raw) {
    var s = asciiText(raw);
    if (s.endsWith("%")) s = s.slice(0, -1);
    if (!s) throw new Bad("percent", raw);
    return scaled(plainNumber(s, raw, "percent"), -2);
  }
  function pad(n, w) { return String(n).padStart(w, "0"); }
  function readDatePart(raw, code) {                  /* dates.py _date_part: [ISO date, the rest] */
    var text = asciiDigits(raw.replace(/[／：]/g, function (c) { return c === "／" ? "/" : ":"; })
                             .split(SPLIT).filter(function (s) { return s; }).join(" ")
                             .replace(/[．－＋]/g, function (c) { return WIDE[c]; }));
    var m = DATE.exec(text);
    if (!m) throw new Bad(code, raw);
    var y = +m[1], mo = +(m[3] || m[5] || m[7]), d = +(m[4] || m[6] || m[8]);
    var days = [31, (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days[mo - 1]) throw new Bad("no_such_date", raw);
    return [pad(y, 4) + "-" + pad(mo, 2) + "-" + pad(d, 2), text.slice(m[0].length)];
  }
  function readDate(raw) {
    var got = readDatePart(raw, "date");
    if (!isBlank(got[1])) throw new Unsure();      /* a time too: the server decides */
    return got[0];
  }
  function readMoment(raw) {                      /* what a datetime-local input gives; else the server reads it */
    var got = readDatePart(raw, "datetime"), m = LOCAL_MOMENT.exec(got[1]);
    if (!m || +m[1] > 23 || +m[2] > 59 || +(m[3] || 0) > 59) throw new Unsure();
    return got[0] + got[1];
  }
  function readDuration(raw, reader) {
    var m = DURATION.exec(asciiText(raw).toLowerCase());
    if (!m || !reader.duration_units[m[2]]) throw new Bad("duration", raw);
    if (!(parseFloat(m[1]) * reader.duration_units[m[2]] < 86400 * 999999999)) throw new Unsure();
    return m[0];
  }
  function readChoice(raw, rule) {                /* by code; a label typed instead is the server's to read */
    if (rule.values.indexOf(raw) >= 0) return raw;
    var s = raw.replace(STRIP, "");
    if (rule.values.indexOf(s) >= 0) return s;
    throw new Unsure();
  }
  function readText(rule, raw, reader) {          /* dsl/values/reader.py _scalar */
    switch (rule.type) {
      case "string": case "ref": return raw.replace(STRIP, "");
      case "text": case "file": return raw;
      case "integer": return readInteger(raw, reader);
      case "number": case "money": return readAmount(raw, rule.scale, reader);
      case "percent": return readPercent(raw);
      case "date": return readDate(raw);
      case "datetime": return readMoment(raw);
      case "duration": return readDuration(raw, reader);
      case "enum": return readChoice(raw, rule);
    }
    throw new Unsure();
  }
  function readPosted(posted, key, rule, reader) {   /* forms/values.py parse_field */
    try {
      if (rule.type === "bool") return { value: posted.getlist(key).some(function (v) { return isTrue(v, reader); }) };
      if (rule.type === "multi_enum") {
        var chosen = posted.getlist(key).filter(function (v) { return typeof v === "string" && !isBlank(v); });
        if (chosen.some(function (v) { return rule.values.indexOf(v) < 0; })) throw new Unsure();
        var list = rule.values.filter(function (c) { return chosen.indexOf(c) >= 0; });
        return { value: list.length ? list : null };
      }
      var raw = posted.get(key);
      if (rule.type === "file") {
        if (raw && typeof raw === "object" && raw.name) return { value: raw.name };
        if (isTrue(posted.get(key + ".__remove") || "", reader)) return { value: null };
        raw = posted.get(key + ".__current");
        return { value: typeof raw === "string" && raw ? raw : null };
      }
      if (typeof raw !== "string" || !raw || isBlank(raw)) return { value: null };
      return { value: readText(rule, raw, reader) };
    } catch (e) {
      if (e instanceof Bad) return { value: null, bad: e };
      if (e instanceof Unsure || e instanceof Fail) return { value: null, unsure: true };
      throw e;
    }
  }
  function clear(root, key) {
    root.querySelectorAll('[name="' + key + '"]').forEach(function (e) {
      if (e.type === "hidden") return;
      if (e.type === "checkbox" || e.type === "radio") e.checked = false; else e.value = "";
    });
  }
  function amountOf(text, reader) {               /* an amount for the 万/亿 hint, or undefined */
    try { return isBlank(text) ? undefined : readAmount(text, null, reader); } catch (e) { return undefined; }
  }

  /* ---- posted data, as the server sees it (forms/values.py Submitted) ---------------------- */
  var ROW = /^([a-z][a-z0-9_]*)\.(\d{1,4})\.([a-z_][a-z0-9_]*)$/;
  function Posted(data) { this.data = data || {}; }
  Posted.prototype.getlist = function (k) {
    var v = this.data[k];
    return v === undefined || v === null ? [] : Array.isArray(v) ? v : [v];
  };
  Posted.prototype.get = function (k) { var l = this.getlist(k); return l.length ? l[l.length - 1] : null; };
  Posted.prototype.rowIndexes = function (table) {
    var seen = {}, out = [];
    Object.keys(this.data).forEach(function (n) {
      var m = ROW.exec(n);
      if (m && m[1] === table && !seen[+m[2]]) { seen[+m[2]] = true; out.push(+m[2]); }
    });
    return out.sort(function (a, b) { return a - b; });
  };
  function rowIsBlank(columns, prefix, posted, reader) {
    return !Object.keys(columns).some(function (c) {
      return posted.getlist(prefix + "." + c).some(function (v) {
        if (v && typeof v === "object") return !!v.name;
        return typeof v === "string" && !isBlank(v) && !(columns[c].type === "bool" && !isTrue(v, reader));
      });
    });
  }
  /* forms/values.py parse: typed values of the editable fields; a sub-table's blank rows and rows
     marked for removal are no rows. Keys are the server's (`sub_limits.0.amount`, by position). */
  function parsePosted(p, posted) {
    var got = { values: {}, bad: {}, unsure: {}, rows: {}, blank: {} };
    function note(key, r) { if (r.bad) got.bad[key] = r.bad; if (r.unsure) got.unsure[key] = true; }
    Object.keys(p.fields).forEach(function (name) {
      var rule = p.fields[name];
      if (!rule.editable) return;
      if (rule.type !== "table") { var r = readPosted(posted, name, rule, p.reader); got.values[name] = r.value; note(name, r); return; }
      var rows = [], kept = [], blank = {};
      posted.rowIndexes(name).forEach(function (i) {
        var prefix = name + "." + i, row = {};
        if (isTrue(posted.get(prefix + "._delete") || "", p.reader)) return;
        var empty = rowIsBlank(rule.columns, prefix, posted, p.reader), pos = rows.length;
        Object.keys(rule.columns).forEach(function (c) {
          var col = rule.columns[c]; if (!col.editable) return;
          var r = readPosted(posted, prefix + "." + c, col, p.reader);
          row[c] = r.value; if (!empty) note(name + "." + pos + "." + c, r);
        });
        if (empty) { blank[i] = row; return; }
        rows.push(row); kept.push(i);
      });
      got.values[name] = rows; got.rows[name] = kept; got.blank[name] = blank;
    });
    return got;
  }

  /* ---- the check: dsl/field_rules.py FieldRules.run, as forms/rules.py check runs it --------- */
  function fmt(template, slots) { return template.replace(/\{(\w+)\}/g, function (_, k) { return slots[k] === undefined ? "" : slots[k]; }); }
  /* a rule's value: {v}, {fail} where Python's evaluation fails too, or {unknown} (a bug here) */
  function attempt(tree, env) {
    try { return { v: ev(tree, env) }; } catch (e) { return e instanceof Fail ? { fail: true } : { unknown: true }; }
  }
  /* a rule's value; null when it fails, as the server counts a failed rule */
  function value_of(tree, env) { var r = attempt(tree, env); return r.fail || r.unknown ? null : r.v; }
  function test(tree, env) { return tree ? value_of(tree, env) === true : null; }
  function isEmpty(v) { return v === null || v === undefined || (typeof v === "string" && isBlank(v)) || (Array.isArray(v) && !v.length); }
  var TEXT_TYPES = { string: 1, text: 1, enum: 1, ref: 1 };
  function outside(rule, value, key) {             /* below min / above max */
    var limit = rule[key];
    if (limit === undefined || value === null) return false;
    if (isNum(value)) return cmpNum(value, parseDec(String(limit))) * (key === "min" ? -1 : 1) > 0;
    if (rule.type === "date" && typeof value === "string") return cmpText(value, limit) * (key === "min" ? -1 : 1) > 0;
    return false;
  }
  function valueProblem(rule, v, msgs) {           /* field_rules.py _value_rule */
    if (typeof v === "string" && TEXT_TYPES[rule.type]) {
      var length = Array.from(v).length;
      if (rule.min_length !== undefined && length < rule.min_length) return fmt(msgs.min_length, { limit: rule.min_length });
      if (rule.max_length !== undefined && length > rule.max_length) return fmt(msgs.max_length, { limit: rule.max_length });
      if (rule.pattern) { try { if (!new RegExp(rule.pattern).test(v)) return fmt(msgs.pattern, { pattern: rule.pattern }); } catch (e) { /* a pattern only Python reads: the server checks it */ } }
    }
    if (outside(rule, v, "min")) return fmt(msgs.min, { limit: rule.min_text });
    if (outside(rule, v, "max")) return fmt(msgs.max, { limit: rule.max_text });
    return "";
  }
  function checkFields(p, rules, prefix, values, env, out, skip) {
    var msgs = p.messages, gone = {};
    function put(key, text) { if (text && !(key in out.errors)) out.errors[key] = text; }
    Object.keys(rules).forEach(function (name) {               /* hide, in order: a later rule sees what was cleared */
      var rule = rules[name], hidden = prefix === "" && !!out.inSections[name];
      if (!hidden && rule.visible) hidden = test(rule.visible, env) !== true;
      if (!hidden) return;
      gone[name] = true; out.hidden[prefix + name] = true;
      if (rule.editable && rule.on_hidden !== "keep") {
        values[name] = env[name] = rule.type === "table" ? [] : null;
        out.clear[prefix + name] = true;
      }
    });
    Object.keys(rules).forEach(function (name) {
      var rule = rules[name], key = prefix + name, v = values[name], required = !!rule.required, r;
      if (gone[name] || skip[key] || !rule.editable) return;
      if (!required && rule.required_when) {
        r = attempt(rule.required_when, env);
        if (r.fail) put(key, fmt(msgs.evaluation, { rule: rule.required_when_text }));
        else required = r.v === true;
      }
      if (required) out.required[key] = true;
      if (rule.type === "table") { checkTable(p, rule, key, v, env, out, required, skip); return; }
      if (isEmpty(v)) { if (required) put(key, msgs.required); return; }
      var problem = valueProblem(rule, v, msgs);
      if (problem) { put(key, problem); return; }
      if (rule.check) {
        r = attempt(rule.check, env);
        if (r.fail) put(key, fmt(msgs.evaluation, { rule: rule.check_text }));
        else if (r.v === false) put(key, rule.check_message);
      }
    });
  }
  function checkTable(p, rule, key, rows, env, out, required, skip) {
    var msgs = p.messages;
    rows = Array.isArray(rows) ? rows : [];
    function put(text) { if (text && !(key in out.errors)) out.errors[key] = text; }
    /* min_rows counts the rows given: an absent table that is not required is fine */
    if (required && !rows.length) put(msgs.required);
    else if (rule.min_rows !== null && rule.min_rows !== undefined && rows.length && rows.length < rule.min_rows) put(fmt(msgs.min_rows, { limit: rule.min_rows }));
    if (rule.max_rows !== null && rule.max_rows !== undefined && rows.length > rule.max_rows) put(fmt(msgs.max_rows, { limit: rule.max_rows }));
    rows.forEach(function (row, i) {
      var renv = Object.assign(scope(row), { form: env });
      checkFields(p, rule.columns, key + "." + i + ".", row, renv, out, skip);
    });
  }
  function compute(p, values, env, out) {
    (p.compute_order || []).forEach(function (name) {
      var rule = p.fields[name];
      if (!rule || !rule.compute) return;
      var r = attempt(rule.compute, env), v = r.fail || r.unknown ? null : r.v;
      if (r.fail && out && !(name in out.errors)) out.errors[name] = fmt(p.messages.evaluation, { rule: rule.compute_text });
      values[name] = env[name] = v;
    });
  }
  /* every rule over what was read: {errors, unsure, hidden, required, clear, sections, values, env},
     keys by the server's row positions */
  function checkForm(p, got) {
    var values = Object.assign({}, got.values), out = { errors: {}, hidden: {}, required: {}, clear: {}, sections: {},
                                                        inSections: {}, unsure: got.unsure };
    Object.keys(p.fields).forEach(function (n) { if (!(n in values)) values[n] = p.fields[n].type === "table" ? [] : null; });
    var env = scope(values), skip = {};
    Object.keys(got.bad).forEach(function (key) {            /* what could not be read speaks first */
      out.errors[key] = fmt(p.value_messages[got.bad[key].code] || p.value_messages.bad_value, got.bad[key].slots);
    });
    Object.keys(got.bad).concat(Object.keys(got.unsure)).forEach(function (key) { if (key.indexOf(".") < 0) skip[key] = true; });
    Object.keys(p.sections).forEach(function (id) {           /* on the values as read, before computing */
      var tree = p.sections[id];
      if (!tree || test(tree, env)) return;
      out.sections[id] = true;
      (p.section_fields[id] || []).forEach(function (n) { out.inSections[n] = true; });
    });
    compute(p, values, env, out);
    checkFields(p, p.fields, "", values, env, out, skip);
    compute(p, values, env, null);
    p.validations.forEach(function (v) {
      if (!v.rule || (v.reads || []).some(function (n) { return skip[n]; })) return;
      var shownFields = v.fields.filter(function (f) { return !out.hidden[f]; }), key = shownFields.length ? shownFields[0] : "";
      var r = attempt(v.rule, env), text = r.fail ? fmt(p.messages.evaluation, { rule: v.text }) : r.v === false ? v.message : "";
      if (text && !(key in out.errors)) out.errors[key] = text;
    });
    Object.keys(out.errors).forEach(function (key) { if (out.hidden[key] || got.unsure[key]) delete out.errors[key]; });
    out.values = values; out.env = env;
    return out;
  }
  function checkPosted(p, data) { var got = parsePosted(p, new Posted(data)); return { got: got, out: checkForm(p, got) }; }

  /* ---- numbers for people (forms/i18n.py, display.py) ---------------------------------------- */
  function wanYi(v, lang) {                        /* forms/i18n.py in_wan_yi */
    var units = lang === "en" ? [[9, " billion", 2], [6, " million", 2]] : [[8, "亿", 4], [4, "万", 4]];
    for (var i = 0; i < units.length; i++) {
      var unit = new Dec(1n, units[i][0]);
      if (cmpNum(absolute(v), unit) >= 0) return plain(normal(toScale(divide(v, unit), units[i][2]))) + units[i][1];
    }
    return "";
  }
  /* the sign of a money field: fixed by the field, or the currency its record holds ("" unknown) */
  function signOf(rule, env, signs) {
    if (rule.currency_field) {
      var code = env ? env[rule.currency_field] : null;
      return typeof code === "string" && code ? (signs && signs[code]) || code + " " : "";
    }
    return rule.sign !== undefined ? rule.sign : "¥";
  }
  function displayValue(rule, v, lang, sign) {      /* forms/display.py display_text */
    if (v === null || v === undefined) return "—";
    if (rule.type === "percent" && isNum(v)) return plain(normal(toScale(mul(v, 100n), 2))) + "%";
    if (typeof v === "bigint") return grouped(v.toString());
    if (v instanceof Dec) {
      var scale = rule.scale !== undefined ? rule.scale : rule.type === "money" ? 2 : undefined, whole;
      if (scale !== undefined) return (rule.type === "money" ? (sign === undefined ? signOf(rule) : sign) : "") + grouped(plain(toScale(v, scale)));
      whole = cmpNum(absolute(v), 1n) >= 0 || normal(v).e >= 0;
      return whole ? grouped(plain(normal(v))) : plain(v);
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
  Form.prototype.setSign = function (key, rule, env) {
    var w = this.wrap(key), pre = w && w.querySelector(".bf-prefix");
    if (pre && rule.currency_field) { var s = signOf(rule, env, this.p.signs).trim(); if (pre.textContent !== s) pre.textContent = s; }
  };
  Form.prototype.rows = function (key) {
    var body = this.form.querySelector('[data-bf-table="' + key + '"] [data-bf-rows]');
    return body ? Array.prototype.slice.call(body.querySelectorAll("tr[data-bf-row]")) : [];
  };
  Form.prototype.posted = function () {            /* what a submit would send now */
    var data = {};
    new FormData(this.form).forEach(function (v, k) { (data[k] = data[k] || []).push(v); });
    return new Posted(data);
  };
  /* one field's state on the page: `key` the server's (row positions), `dom` the page's (row indexes) */
  Form.prototype.paint = function (rule, key, dom, res, env, cell) {
    var hidden = !!res.hidden[key];
    this.show(dom, !hidden, cell);
    if (res.clear[key]) clear(this.form, dom);
    if (rule.type === "money") this.setSign(dom, rule, env);
    if (rule.type !== "table") this.setRequired(dom, !hidden && !!(rule.required || res.required[key]));
    if (res.unsure[key]) return;                   /* only the server reads it: its word stands */
    if (hidden) { this.setError(dom, ""); return; }
    var top = dom.split(".")[0];
    if (this.all || this.touched[dom] || this.touched[top]) this.setError(dom, res.errors[key] || "");
  };
  Form.prototype.update = function () {
    var self = this, p = this.p, got = parsePosted(p, this.posted()), res = checkForm(p, got), env = res.env;
    Object.keys(p.sections).forEach(function (id) {
      var sec = self.form.querySelector('[data-bf-section="' + id + '"]');
      if (sec && p.sections[id]) sec.hidden = !!res.sections[id];
    });
    (p.compute_order || []).forEach(function (name) {
      var rule = p.fields[name], out = self.wrap(name);
      out = out && out.querySelector("[data-bf-output]");
      if (rule && rule.compute && out) out.textContent = displayValue(rule, env[name], p.lang, signOf(rule, env, p.signs));
    });
    Object.keys(p.fields).forEach(function (name) {
      var rule = p.fields[name];
      self.paint(rule, name, name, res, env);
      if (rule.type !== "table") return;
      var kept = got.rows[name] || [], blank = got.blank[name] || {};
      self.rows(name).forEach(function (tr) {
        var i = +tr.getAttribute("data-bf-row"), pos = kept.indexOf(i);
        Object.keys(rule.columns).forEach(function (c) {
          var col = rule.columns[c], dom = name + "." + i + "." + c;
          if (pos >= 0) { self.paint(col, name + "." + pos + "." + c, dom, res, Object.assign(scope(res.values[name][pos] || {}), { form: env }), true); return; }
          /* a blank row is no row to the server: no messages, only what it would show */
          var row = blank[i] || {}, renv = Object.assign(scope(row), { form: env });
          var shownCell = !res.hidden[name] && (!col.visible || test(col.visible, renv) === true);
          self.show(dom, shownCell, true); self.setError(dom, "");
          if (col.type === "money") self.setSign(dom, col, renv);
          if (col.type !== "table") self.setRequired(dom, shownCell && !!(col.required || (col.required_when && test(col.required_when, renv))));
        });
      });
    });
    this.form.querySelectorAll("[data-bf-amount]").forEach(function (input) {
      var hint = input.closest(".bf-field"); hint = hint && hint.querySelector("[data-bf-hint]");
      if (!hint) return;
      var v = amountOf(input.value || "", p.reader);
      hint.textContent = v === undefined ? "" : wanYi(v, p.lang);
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
  window.BanyanForms = {
    evaluate: function (tree, env) { return ev(tree, scope(env)); }, evaluateJSON: evaluateJSON,
    isUscc: isUscc, Dec: Dec,
    parseAmount: function (input, reader) { var v = amountOf(input, reader); return v === undefined ? null : toJSON(v); },
    display: function (rule, v, lang, sign) { return displayValue(rule, fromJSON(v), lang, sign); },
    /* the whole check of posted data ({name: [values]}), as the page runs it on every change */
    check: function (program, data) {
      var r = checkPosted(program, data), keys = function (o) { return Object.keys(o).sort(); };
      return { errors: r.out.errors, unsure: keys(r.out.unsure), hidden: keys(r.out.hidden), required: keys(r.out.required),
               rows: r.got.rows, values: toJSON(r.out.values) };
    },
    wanYi: function (v, lang) { return wanYi(fromJSON(v), lang); }
  };
})();
