// The search box in the top bar: "/" focuses it; while typing, the first hits of each kind are
// suggested (GET /search/suggest), chosen with the arrow keys and Enter. Without this script the
// box is a plain form that opens /search.
(function () {
  "use strict";
  var box = document.getElementById("top-search");
  var list = document.getElementById("top-search-list");
  if (!box || !list) { return; }
  var timer = null;
  var asked = 0;
  var active = -1;

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (e) {
    if (e.key === "/" && !e.ctrlKey && !e.metaKey && !e.altKey && !typing(e.target)) {
      e.preventDefault();
      box.focus();
      box.select();
    }
  });

  function options() { return list.querySelectorAll("li[role=option]"); }

  function close() {
    list.hidden = true;
    list.textContent = "";
    active = -1;
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
  }

  function marked(parent, m) {
    parent.appendChild(document.createTextNode(m.before));
    if (m.hit) {
      var mark = document.createElement("mark");
      mark.textContent = m.hit;
      parent.appendChild(mark);
    }
    parent.appendChild(document.createTextNode(m.after));
  }

  function show(data) {
    list.textContent = "";
    active = -1;
    var kind = null;
    data.hits.forEach(function (hit, i) {
      if (hit.kind !== kind) {
        kind = hit.kind;
        var head = document.createElement("li");
        head.className = "kind";
        head.setAttribute("role", "presentation");
        head.textContent = hit.kind_title;
        list.appendChild(head);
      }
      var li = document.createElement("li");
      li.id = "suggestion-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", "false");
      li.dataset.url = hit.url;
      var a = document.createElement("a");
      a.href = hit.url;
      marked(a, hit.title);
      li.appendChild(a);
      var where = document.createElement("small");
      where.textContent = hit.kind === "organizations" ? "" : " · " + hit.organization;
      li.appendChild(where);
      if (hit.excerpt) {
        var ex = document.createElement("div");
        ex.className = "hit-excerpt";
        marked(ex, hit.excerpt);
        li.appendChild(ex);
      }
      li.addEventListener("mousedown", function (e) { e.preventDefault(); window.location.href = hit.url; });
      list.appendChild(li);
    });
    var all = document.createElement("li");
    all.id = "suggestion-all";
    all.setAttribute("role", "option");
    all.setAttribute("aria-selected", "false");
    all.dataset.url = data.all;
    var link = document.createElement("a");
    link.href = data.all;
    link.textContent = data.hits.length ? "All results for \u201c" + data.query + "\u201d" : "Nothing suggested: search all for \u201c" + data.query + "\u201d";
    all.appendChild(link);
    list.appendChild(all);
    list.hidden = false;
    box.setAttribute("aria-expanded", "true");
  }

  function ask() {
    var q = box.value.trim();
    if (!q) { close(); return; }
    var mine = ++asked;
    fetch("/search/suggest?q=" + encodeURIComponent(q), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && mine === asked && box.value.trim() === q) { show(data); } })
      .catch(function () { /* the form still works */ });
  }

  box.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 150);
  });

  function choose(i) {
    var all = options();
    if (!all.length) { return; }
    if (active >= 0 && all[active]) { all[active].setAttribute("aria-selected", "false"); }
    active = (i + all.length) % all.length;
    all[active].setAttribute("aria-selected", "true");
    all[active].scrollIntoView({ block: "nearest" });
    box.setAttribute("aria-activedescendant", all[active].id);
  }

  box.addEventListener("keydown", function (e) {
    if (list.hidden) { return; }
    if (e.key === "ArrowDown") { e.preventDefault(); choose(active + 1); }
    else if (e.key === "ArrowUp") { e.preventDefault(); choose(active - 1); }
    else if (e.key === "Escape") { close(); }
    else if (e.key === "Enter" && active >= 0) {
      e.preventDefault();
      window.location.href = options()[active].dataset.url;
    }
  });
  box.addEventListener("blur", function () { setTimeout(close, 150); });
})();
