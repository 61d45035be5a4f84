// Dashboard charts: Chart.js (from npm, static/vendor) configured from JSON the server embeds.
// Each <canvas data-chart="kind" data-source="json-script-id"> gets one chart.
(function () {
  const palette = { nps: "#4f46e5", csat: "#0f766e", ces: "#b45309", band: "rgba(79,70,229,.15)" };
  const read = (id) => JSON.parse(document.getElementById(id).textContent);
  // Fixed texts in the staff's language (templates/metrics/_chart_texts.html), English without it.
  const texts = Object.assign(
    { interval_high: "95 % interval (high)", interval_low: "95 % interval (low)", partial: "partial period: cut by the dates or not over yet",
      detractors: "Detractors (0–6)", passives: "Passives (7–8)", promoters: "Promoters (9–10)", churn_rate: "Churn rate %", answers: "answers",
      nps_impact: "NPS impact", interval: "95 % interval" },
    document.getElementById("chart-texts") ? read("chart-texts") : {},
  );

  const builders = {
    // Weekly score with its 95 % interval as a shaded band; low-sample weeks drawn hollow;
    // a partial week (cut by the date range, or not over yet) hollow and larger, reached by a
    // dashed line, so nobody reads half a week as a drop.
    trend(data) {
      const colour = palette[data.metric] || palette.nps;
      const labels = data.series.map((p) => p.period_start);
      const partial = (i) => Boolean(data.series[i] && data.series[i].partial);
      const note = (i) => [`n = ${data.series[i].n}`, ...(partial(i) ? [texts.partial] : [])];
      return {
        type: "line",
        data: {
          labels,
          datasets: [
            { label: texts.interval_high, data: data.series.map((p) => p.ci_high), borderWidth: 0, pointRadius: 0, fill: "+1", backgroundColor: colour + "26" },
            { label: texts.interval_low, data: data.series.map((p) => p.ci_low), borderWidth: 0, pointRadius: 0, fill: false },
            { label: data.label, data: data.series.map((p) => p.score), borderColor: colour, backgroundColor: colour, tension: 0.25,
              pointBackgroundColor: data.series.map((p) => (p.low_sample || p.partial ? "#fff" : colour)),
              pointRadius: data.series.map((p) => (p.partial ? 4 : 3)),
              pointBorderWidth: data.series.map((p) => (p.partial ? 2 : 1)),
              segment: { borderDash: (ctx) => (partial(ctx.p0DataIndex) || partial(ctx.p1DataIndex) ? [5, 4] : undefined) } },
          ],
        },
        options: {
          maintainAspectRatio: false,
          plugins: { legend: { display: false }, tooltip: { callbacks: { afterLabel: (ctx) => (ctx.datasetIndex === 2 ? note(ctx.dataIndex) : "") } } },
          scales: { y: data.metric === "nps" ? { min: -100, max: 100 } : { min: 0, max: 100 } },
        },
      };
    },
    // Promoters / passives / detractors per week, stacked.
    distribution(data) {
      const labels = data.series.map((p) => p.period_start);
      const part = (key) => data.series.map((p) => p[key]);
      return {
        type: "bar",
        data: {
          labels,
          datasets: [
            { label: texts.detractors, data: part("detractors"), backgroundColor: "#dc3545" },
            { label: texts.passives, data: part("passives"), backgroundColor: "#adb5bd" },
            { label: texts.promoters, data: part("promoters"), backgroundColor: "#198754" },
          ],
        },
        options: { maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true } } },
      };
    },
    // One horizontal bar per group (channel, plan…), score with n in the label.
    breakdown(data) {
      return {
        type: "bar",
        data: {
          labels: data.rows.map((r) => `${r.label ?? r.value} (n=${r.n})`),
          datasets: [{ label: data.label, data: data.rows.map((r) => r.score), backgroundColor: data.rows.map((r) => (r.low_sample ? "#c7c9f5" : palette[data.metric] || palette.nps)) }],
        },
        options: { indexAxis: "y", maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { x: data.metric === "nps" ? { min: -100, max: 100 } : { min: 0, max: 100 } } },
      };
    },
    // Throttle decisions by reason, one bar colour per survey: which rule holds what back.
    reasons(data) {
      const colours = ["#4f46e5", "#0f766e", "#b45309", "#be123c", "#6c757d", "#0369a1"];
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: data.datasets.map((d, i) => ({ label: d.label, data: d.values, backgroundColor: colours[i % colours.length] })),
        },
        options: { indexAxis: "y", maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true } }, plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } } },
      };
    },
    // Monthly churn rate (bars, left axis) beside NPS (line, right axis).
    churn(data) {
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            { type: "bar", label: texts.churn_rate, data: data.churn, backgroundColor: "#dc354599", yAxisID: "churn" },
            { type: "line", label: "NPS", data: data.nps, borderColor: palette.nps, backgroundColor: palette.nps, yAxisID: "nps", tension: 0.25, spanGaps: true },
          ],
        },
        options: {
          maintainAspectRatio: false,
          plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
          scales: {
            churn: { position: "left", beginAtZero: true, ticks: { callback: (v) => v + " %" } },
            nps: { position: "right", min: -100, max: 100, grid: { drawOnChartArea: false } },
          },
        },
      };
    },
    // Each topic's NPS impact (answers with it minus the rest) over its 95 % interval.
    drivers(data) {
      return {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: [
            { label: texts.nps_impact, data: data.impact, backgroundColor: data.impact.map((v) => (v < 0 ? "#dc3545" : "#198754")), barPercentage: 0.5, grouped: false, order: 0 },
            { label: texts.interval, data: data.interval, backgroundColor: "#6c757d33", barPercentage: 0.9, grouped: false, order: 1 },
          ],
        },
        options: { indexAxis: "y", maintainAspectRatio: false, plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }, scales: { x: { ticks: { callback: (v) => (v > 0 ? "+" : "") + v } } } },
      };
    },
    // One line per series (topics per week).
    lines(data) {
      const colours = ["#4f46e5", "#0f766e", "#b45309", "#be123c", "#6c757d", "#0369a1"];
      return {
        type: "line",
        data: {
          labels: data.labels,
          datasets: data.datasets.map((d, i) => ({ label: d.label, data: d.values, borderColor: d.other ? "#adb5bd" : colours[i % colours.length], backgroundColor: d.other ? "#adb5bd" : colours[i % colours.length], borderDash: d.other ? [4, 3] : [], tension: 0.25, pointRadius: 2 })),
        },
        options: { maintainAspectRatio: false, plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } }, scales: { y: { beginAtZero: true } } },
      };
    },
    // How many answers gave each score.
    histogram(data) {
      return {
        type: "bar",
        data: { labels: data.labels, datasets: [{ label: texts.answers, data: data.values, backgroundColor: palette[data.metric] || palette.nps }] },
        options: { maintainAspectRatio: false, plugins: { legend: { display: false } } },
      };
    },
  };

  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const build = builders[canvas.dataset.chart];
    if (build && window.Chart) new window.Chart(canvas, build(read(canvas.dataset.source)));
  });
})();
