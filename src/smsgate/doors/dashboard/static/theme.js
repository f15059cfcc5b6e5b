// Light or dark: the visitor's choice (kept in localStorage) or else the system's; set before
// the page paints, so it never flashes the other theme.
(function () {
  var root = document.documentElement;
  var saved = null;
  try { saved = localStorage.getItem("sg-theme"); } catch (e) { /* storage blocked */ }
  if (saved === "light" || saved === "dark") { root.dataset.theme = saved; }
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("theme-toggle");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var dark = root.dataset.theme
        ? root.dataset.theme === "dark"
        : window.matchMedia("(prefers-color-scheme: dark)").matches;
      root.dataset.theme = dark ? "light" : "dark";
      try { localStorage.setItem("sg-theme", root.dataset.theme); } catch (e) { /* ignore */ }
    });
  });
})();
