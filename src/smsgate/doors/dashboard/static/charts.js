// Draws every <canvas data-chart='{"type", "labels", "series"}'> with chart.js (on load and as
// htmx brings each panel), in the page's
// theme colours (read from its CSS custom properties, so light and dark both read well).
(function () {
  function colour(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }
  function draw() {
    var palette = [colour("--accent"), colour("--ok"), colour("--bad"), colour("--wait"), colour("--grey")];
    var text = colour("--fg");
    var grid = colour("--line");
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = JSON.parse(canvas.dataset.chart);
      var round = spec.type === "doughnut";
      var colours = spec.colours ? spec.colours.map(colour) : palette;
      var existing = Chart.getChart(canvas);
      if (existing) { existing.destroy(); }
      new Chart(canvas, {
        type: spec.type,
        data: {
          labels: spec.labels,
          datasets: spec.series.map(function (s, i) {
            return {
              label: s.label,
              data: s.data,
              backgroundColor: round ? colours : palette[i % palette.length],
              borderColor: round ? colour("--card") : palette[i % palette.length],
              pointRadius: 0
            };
          })
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { labels: { color: text } } },
          scales: round ? {} : {
            x: { ticks: { color: text }, grid: { color: grid } },
            y: { ticks: { color: text }, grid: { color: grid }, beginAtZero: spec.type !== "line" }
          }
        }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", draw);
  // Panels arrive one by one (htmx): draw each as it is settled in the page.
  document.addEventListener("htmx:afterSettle", draw);
  // The theme button changes the colours: draw again in the new ones.
  new MutationObserver(draw).observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
})();
