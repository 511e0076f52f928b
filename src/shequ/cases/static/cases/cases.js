// Case pages: the location picker of "我要报事", the point map of one case, the map of cases coloured by
// state, and the ECharts figures. No tile layer unless the server names one (SHEQU_TILE_URL).
(function () {
  "use strict";
  const AREA = { color: "#b4232a", weight: 2, fillOpacity: 0.05, dashArray: "6 4" };

  function baseMap(el) {
    const map = L.map(el, { zoomSnap: 0.25, attributionControl: !!el.dataset.tileUrl });
    if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
    return map;
  }

  function empty(el) {
    el.classList.add("map-empty");
    el.textContent = el.dataset.empty || "";
    el.dataset.ready = "0";
  }

  // Tap to drop a pin inside the community; the pin fills the hidden lon/lat inputs.
  function initPicker(el) {
    const source = document.getElementById(el.dataset.pickMap);
    const data = source ? JSON.parse(source.textContent) : null;
    const form = el.closest("form");
    const lon = form.querySelector("[name='lon']");
    const lat = form.querySelector("[name='lat']");
    const status = form.querySelector("[data-pick-status]");
    if (!data || !data.features.length) return empty(el);
    const map = baseMap(el);
    const area = L.geoJSON(data, { style: () => AREA, interactive: false }).addTo(map);
    map.fitBounds(area.getBounds(), { padding: [8, 8] });
    let marker = null;
    function place(latlng) {
      if (marker) marker.setLatLng(latlng);
      else marker = L.circleMarker(latlng, { radius: 9, color: "#fff", weight: 3, fillColor: "#b4232a", fillOpacity: 1 }).addTo(map);
      lon.value = latlng.lng.toFixed(6);
      lat.value = latlng.lat.toFixed(6);
      if (status) status.textContent = status.dataset.picked;
      el.dataset.picked = "1";
      document.body.dispatchEvent(new CustomEvent("case-pin"));
    }
    if (lon.value && lat.value) place(L.latLng(parseFloat(lat.value), parseFloat(lon.value)));
    map.on("click", (e) => place(e.latlng));
    el.dataset.ready = "1";
  }

  function initPoint(el) {
    const latlng = L.latLng(parseFloat(el.dataset.lat), parseFloat(el.dataset.lon));
    const map = baseMap(el);
    map.setView(latlng, 15); // a view first: Leaflet draws vectors only once the map has one
    const source = el.dataset.area && document.getElementById(el.dataset.area);
    const area = source ? JSON.parse(source.textContent) : null;
    if (area && area.features.length) L.geoJSON(area, { style: () => AREA, interactive: false }).addTo(map);
    L.circleMarker(latlng, { radius: 9, color: "#fff", weight: 3, fillColor: "#b4232a", fillOpacity: 1 }).addTo(map);
    el.dataset.ready = "1";
  }

  function initCases(el) {
    fetch(el.dataset.caseMap, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((data) => {
        if (!data.features.length) return empty(el);
        const map = baseMap(el);
        const layer = L.geoJSON(data, {
          pointToLayer: (f, latlng) => L.circleMarker(latlng, {
            radius: f.properties.overdue ? 9 : 7, color: f.properties.overdue ? "#000" : "#fff", weight: 2,
            fillColor: f.properties.colour, fillOpacity: 0.9,
          }),
          onEachFeature: (f, l) => {
            const a = document.createElement("a");
            a.href = f.properties.url;
            a.textContent = f.properties.number + " " + f.properties.title;
            const box = document.createElement("div");
            box.append(a, document.createElement("br"), f.properties.label);
            l.bindPopup(box);
          },
        }).addTo(map);
        map.fitBounds(layer.getBounds(), { padding: [16, 16], maxZoom: 16 });
        el.dataset.ready = String(data.features.length);
      })
      .catch(() => empty(el));
  }

  function initCharts() {
    const source = document.getElementById("case-figures");
    if (!source || typeof echarts === "undefined") return;
    const data = JSON.parse(source.textContent);
    const bar = (rows, horizontal) => ({
      grid: { left: horizontal ? 110 : 40, right: 16, top: 10, bottom: horizontal ? 24 : 60 },
      tooltip: { trigger: "axis" },
      xAxis: horizontal ? { type: "value", minInterval: 1 }
        : { type: "category", data: rows.map((r) => r.name), axisLabel: { rotate: 45 } },
      yAxis: horizontal ? { type: "category", data: rows.map((r) => r.name).reverse() } : { type: "value", minInterval: 1 },
      series: [{ type: "bar", name: data.labels.count, data: (horizontal ? rows.slice().reverse() : rows).map((r) => r.value),
        itemStyle: { color: "#0b57d0" } }],
    });
    const options = {
      state: {
        tooltip: { trigger: "item" }, legend: { bottom: 0, type: "scroll" },
        series: [{ type: "pie", radius: ["35%", "65%"], center: ["50%", "45%"],
          data: data.state.map((r) => ({ name: r.name, value: r.value, itemStyle: { color: r.colour } })) }],
      },
      category: bar(data.category, true),
      grid: bar(data.grid, true),
      period: { ...bar(data.period, false), series: [{ type: "line", name: data.labels.count, smooth: true,
        data: data.period.map((r) => r.value), areaStyle: { opacity: 0.15 } }] },
      rating: bar(data.rating, false),
    };
    document.querySelectorAll("[data-chart]").forEach((el) => {
      const chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(options[el.dataset.chart]);
      el.dataset.ready = "1";
      window.addEventListener("resize", () => chart.resize());
    });
  }

  if (typeof L !== "undefined") {
    document.querySelectorAll("[data-pick-map]").forEach(initPicker);
    document.querySelectorAll("[data-point-map]").forEach(initPoint);
    document.querySelectorAll("[data-case-map]").forEach(initCases);
  }
  initCharts();
})();
