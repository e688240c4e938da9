/* The 360° view's pictures, drawn with the vendored Apache ECharts (static/vendor/echarts):
   the equity structure as a tree series (click a node to expand or collapse it; "focus on a member"
   opens the path down to it and highlights it) and the guarantee network as a graph series
   (force layout, arrows from guarantor to borrower, guarantee circles in red). The data is the
   page's own (a JSON script element, the same as GET /views/...); a table beside each picture says
   the same for reading without it. No inline script: the page's CSP allows only files from here. */
(function () {
  "use strict";
  var node = document.getElementById("view-pictures");
  if (!node || typeof echarts === "undefined") { return; }
  var data = JSON.parse(node.textContent);
  var W = data.words;
  var COLORS = { member: "#0f5c4c", company: "#5b6675", person: "#b8860b", hidden: "#c4ccd6", chain: "#b42318" };
  var charts = {};

  function pct(share) {
    if (share === null || share === undefined) { return ""; }
    return (Math.round(share * 10000) / 100) + "%";
  }
  function money(amount) {
    if (amount === null || amount === undefined) { return ""; }
    if (data.lang === "en") {
      if (Math.abs(amount) >= 1e9) { return (amount / 1e9).toFixed(2) + " bn"; }
      if (Math.abs(amount) >= 1e6) { return (amount / 1e6).toFixed(2) + " m"; }
      return amount.toFixed(0);
    }
    if (Math.abs(amount) >= 1e8) { return (amount / 1e8).toFixed(2) + "亿"; }
    if (Math.abs(amount) >= 1e4) { return (amount / 1e4).toFixed(0) + "万"; }
    return amount.toFixed(0);
  }

  /* ---------------------------------------------------------------- equity tree */
  function treeNode(n, level, open) {
    var name = n.name || W.other_client;
    var edge = [pct(n.share), money(n.amount)].filter(Boolean).join(" · ");
    var color = n.kind === "hidden" ? COLORS.hidden : n.kind === "person" ? COLORS.person :
      n.member ? COLORS.member : COLORS.company;
    var out = {
      name: name, id: n.id, key: n.key, edge: edge, kind: n.kind,
      value: n.share,
      collapsed: !(open && open[n.id]) && level >= 2,
      itemStyle: { color: color, borderColor: n.chain ? COLORS.chain : color, borderWidth: n.chain ? 3 : 1 },
      lineStyle: n.chain ? { color: COLORS.chain, width: 2 } : undefined,
      children: (n.children || []).map(function (c) { return treeNode(c, level + 1, open); })
    };
    if (n.others) {          /* holdings of other branches' clients, nothing shown beneath: counted */
      out.children.push({ name: W.other_clients.replace("{n}", n.others), id: n.id + "-others", kind: "others",
        itemStyle: { color: COLORS.hidden }, children: [] });
    }
    if (n.more) {            /* beyond the holdings drawn under one holder: counted (the table lists the same) */
      out.children.push({ name: W.more_firms.replace("{n}", n.more), id: n.id + "-more", kind: "more",
        itemStyle: { color: "#ffffff", borderColor: "#9aa5b1" }, children: [] });
    }
    return out;
  }

  function pathTo(tree, key) {
    if (tree.key === key && tree.kind !== "hidden") { return [tree]; }
    var kids = tree.children || [];
    for (var i = 0; i < kids.length; i++) {
      var found = pathTo(kids[i], key);
      if (found) { return [tree].concat(found); }
    }
    return null;
  }

  function leaves(n) {       /* the rows a tree drawn left to right needs: its visible leaves */
    if (n.collapsed || !n.children || !n.children.length) { return 1; }
    return n.children.reduce(function (sum, c) { return sum + leaves(c); }, 0);
  }

  function drawTree(id, spec, open, focusId) {
    var el = document.getElementById("chart-" + id);
    var root = treeNode(spec.tree, 0, open);
    el.style.height = Math.max(560, leaves(root) * 34 + 60) + "px";     /* room for two lines a node */
    var chart = charts[id] || echarts.init(el, null, { renderer: "canvas" });
    charts[id] = chart;
    chart.resize();
    chart.setOption({
      animationDuration: 300,
      tooltip: {
        trigger: "item", triggerOn: "mousemove", renderMode: "richText",   /* drawn on the canvas: no inline style */
        formatter: function (p) {
          var d = p.data;
          return d.name + (d.edge ? "\n" + d.edge : "");
        }
      },
      series: [{
        type: "tree", id: "equity", data: [root], roam: true, orient: "LR",
        top: 20, bottom: 20, left: 120, right: 260,
        symbol: "roundRect", symbolSize: [14, 14], expandAndCollapse: true, initialTreeDepth: -1,
        label: {
          position: "right", verticalAlign: "middle", align: "left", fontSize: 12,
          formatter: function (p) {
            var d = p.data;
            var focus = d.id === focusId ? "{focus|" + d.name + "}" : "{name|" + d.name + "}";
            return (d.edge ? "{edge|" + d.edge + "}\n" : "") + focus;
          },
          rich: {
            edge: { color: "#b8860b", fontSize: 11, lineHeight: 14 },
            name: { color: "#1c2430", fontSize: 12, lineHeight: 16 },
            focus: { color: "#fff", backgroundColor: "#b42318", padding: [2, 4], borderRadius: 3, fontSize: 12 }
          }
        },
        leaves: { label: { position: "right", align: "left" } },
        emphasis: { focus: "ancestor" },
        lineStyle: { color: "#9aa5b1", width: 1.2, curveness: 0.4 }
      }]
    }, { replaceMerge: ["series"] });
    return chart;
  }

  function shownRows(n) {    /* the same, read from the chart after a click expanded or collapsed a node */
    if (!n.isExpand || !n.children.length) { return 1; }
    return n.children.reduce(function (sum, c) { return sum + shownRows(c); }, 0);
  }

  function setupTree(id, spec) {
    var open = {};
    drawTree(id, spec, open, null);
    charts[id].on("click", function () {
      var chart = charts[id], el = document.getElementById("chart-" + id);
      var root = chart.getModel().getSeriesByIndex(0).getData().tree.root;
      var rows = root.children.reduce(function (sum, c) { return sum + shownRows(c); }, 0);
      var height = Math.max(560, rows * 34 + 60) + "px";
      if (el.style.height !== height) { el.style.height = height; chart.resize(); }
    });
    var select = document.querySelector(".equity-focus[data-chart='" + id + "']");
    var status = document.getElementById("status-" + id);
    if (select) {
      select.addEventListener("change", function () {
        var key = select.value;
        if (!key) { status.textContent = ""; drawTree(id, spec, open, null); return; }
        var path = pathTo(spec.tree, key);
        if (!path) { return; }
        path.forEach(function (n) { open[n.id] = true; });
        var target = path[path.length - 1];
        drawTree(id, spec, open, target.id);
        var chart = charts[id];
        var idx = indexOf(chart, target.id);
        if (idx !== null) {
          chart.dispatchAction({ type: "highlight", seriesIndex: 0, dataIndex: idx });
          chart.dispatchAction({ type: "showTip", seriesIndex: 0, dataIndex: idx });
        }
        status.textContent = W.focused.replace("{name}", target.name || W.other_client).replace("{path}",
          path.map(function (n) { return n.name || W.other_client; }).join(" → "));
        status.dataset.focused = key;
      });
    }
    var expand = document.querySelector(".equity-expand[data-chart='" + id + "']");
    if (expand) {
      expand.addEventListener("click", function () {
        (function mark(n) { open[n.id] = true; (n.children || []).forEach(mark); })(spec.tree);
        drawTree(id, spec, open, null);
      });
    }
    var collapse = document.querySelector(".equity-collapse[data-chart='" + id + "']");
    if (collapse) {
      collapse.addEventListener("click", function () {
        Object.keys(open).forEach(function (k) { delete open[k]; });
        if (select) { select.value = ""; }
        status.textContent = "";
        drawTree(id, spec, open, null);
      });
    }
  }

  function indexOf(chart, nodeId) {
    var series = chart.getModel().getSeriesByIndex(0);
    var d = series.getData();
    for (var i = 0; i < d.count(); i++) {
      var item = d.getRawDataItem(i);
      if (item && item.id === nodeId) { return i; }
    }
    return null;
  }

  /* ---------------------------------------------------------------- guarantee network */
  function setupGraph(id, spec) {
    var el = document.getElementById("chart-" + id);
    var chart = echarts.init(el, null, { renderer: "canvas" });
    charts[id] = chart;
    var net = spec.network;
    var categories = [{ name: W.legend_member }, { name: W.legend_outside }, { name: W.legend_hidden }];
    var nodes = net.nodes.map(function (n) {
      return {
        id: n.id, name: n.name || W.other_client, key: n.key,
        category: n.hidden ? 2 : n.member ? 0 : 1,
        symbolSize: n.circle ? 16 : 10,
        itemStyle: n.circle ? { borderColor: COLORS.chain, borderWidth: 3 } : undefined,
        label: { show: n.circle || !n.member }
      };
    });
    var links = net.links.map(function (x) {
      return {
        source: x.source, target: x.target, amount: x.amount,
        lineStyle: x.circle ? { color: COLORS.chain, width: 2 } : { color: "#9aa5b1" },
        label: { show: x.circle && x.amount !== null, formatter: money(x.amount) }
      };
    });
    chart.setOption({
      color: [COLORS.member, "#6b8fb3", COLORS.hidden],
      legend: [{ data: categories.map(function (c) { return c.name; }), top: 0 }],
      tooltip: {
        renderMode: "richText",                                          /* drawn on the canvas: no inline style */
        formatter: function (p) {
          if (p.dataType === "edge") {
            var s = nodes.filter(function (n) { return n.id === p.data.source; })[0];
            var t = nodes.filter(function (n) { return n.id === p.data.target; })[0];
            return (s ? s.name : "") + " → " + (t ? t.name : "") +
              (p.data.amount !== null ? "\n" + money(p.data.amount) : "");
          }
          return p.data.name;
        }
      },
      series: [{
        type: "graph", layout: "force", roam: true, draggable: true, categories: categories,
        data: nodes, links: links, edgeSymbol: ["none", "arrow"], edgeSymbolSize: 7,
        force: { repulsion: 220, edgeLength: [50, 150], gravity: 0.05 },
        label: { position: "right", fontSize: 11 },
        emphasis: { focus: "adjacency", label: { show: true } }
      }]
    });
  }

  Object.keys(data.charts).forEach(function (id) {
    var spec = data.charts[id];
    if (spec.graph === "equity" && spec.tree && document.getElementById("chart-" + id)) { setupTree(id, spec); }
    if (spec.graph === "guarantee" && spec.network && document.getElementById("chart-" + id)) { setupGraph(id, spec); }
  });
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) { charts[k].resize(); });
  });
})();
