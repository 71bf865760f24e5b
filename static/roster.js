// Roster's only script, and pages work without it: it suggests organizations in the choosers
// (Parent Organization, organization access) and lists similar names while a name is typed.
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, ms);
    };
  }

  function lookup(text) {
    return fetch("/organizations/lookup?q=" + encodeURIComponent(text), {
      credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (r) { return r.ok ? r.json() : []; }).catch(function () { return []; });
  }

  function label(org) {
    return org.short_name ? org.name + " (" + org.short_name + ")" : org.name;
  }

  // Choosers: an input with data-org-chooser and a <datalist>; the hidden parent_id (if any)
  // is set when the chosen name belongs to exactly one suggestion, and cleared on typing.
  document.querySelectorAll("input[data-org-chooser]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var hidden = input.form ? input.form.querySelector("input[type=hidden][name=parent_id]") : null;
    var found = [];
    function pick() {
      var hits = found.filter(function (o) { return o.name === input.value; });
      if (hidden && hits.length === 1) { hidden.value = String(hits[0].id); }
    }
    input.addEventListener("input", function () { if (hidden) { hidden.value = ""; } });
    input.addEventListener("input", debounce(function () {
      var text = input.value.trim();
      if (text.length < 2) { list.replaceChildren(); return; }
      lookup(text).then(function (orgs) {
        found = orgs;
        list.replaceChildren.apply(list, orgs.map(function (o) {
          var option = document.createElement("option");
          option.value = o.name;
          option.label = label(o);
          return option;
        }));
        pick();
      });
    }, 200));
    input.addEventListener("change", pick);
  });

  // Similar names under the Name field of the organization form.
  var name = document.querySelector("input[data-similar]");
  if (name) {
    var box = document.getElementById(name.getAttribute("data-similar"));
    var self = name.getAttribute("data-self");
    name.addEventListener("input", debounce(function () {
      var text = name.value.trim();
      if (text.length < 3) { box.hidden = true; box.replaceChildren(); return; }
      lookup(text).then(function (orgs) {
        orgs = orgs.filter(function (o) { return String(o.id) !== self; });
        box.replaceChildren();
        box.hidden = orgs.length === 0;
        if (orgs.length === 0) { return; }
        var intro = document.createElement("p");
        intro.textContent = "Already entered? Organizations with similar names:";
        var ul = document.createElement("ul");
        orgs.forEach(function (o) {
          var li = document.createElement("li");
          var a = document.createElement("a");
          a.href = "/organizations/" + o.id;
          a.textContent = label(o);
          li.appendChild(a);
          ul.appendChild(li);
        });
        box.appendChild(intro);
        box.appendChild(ul);
      });
    }, 250));
  }
})();
