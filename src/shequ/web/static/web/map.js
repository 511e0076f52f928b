// Place map: draws the node, its child areas and grids from the platform's own GeoJSON with Leaflet.
// No tile layer unless the server names one (SHEQU_TILE_URL); clicking a child area opens it.
(function () {
  "use strict";
  const STYLES = {
    self: { color: "#b4232a", weight: 3, fillOpacity: 0.04, dashArray: "6 4" },
    child: { color: "#0b57d0", weight: 2, fillColor: "#4c8df6", fillOpacity: 0.22 },
    grid: { color: "#1a7f37", weight: 1.5, fillOpacity: 0.06, dashArray: "3 3" },
  };

  function init(el) {
    if (typeof L === "undefined") return;
    const empty = () => { el.classList.add("map-empty"); el.textContent = el.dataset.empty; el.dataset.ready = "0"; };
    fetch(el.dataset.geojson, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
      .then((data) => {
        if (!data.features || !data.features.length) return empty();
        const map = L.map(el, { zoomSnap: 0.25, attributionControl: !!el.dataset.tileUrl });
        if (el.dataset.tileUrl) L.tileLayer(el.dataset.tileUrl, { maxZoom: 19 }).addTo(map);
        const order = { self: 0, grid: 1, child: 2 }; // children on top so they take the clicks
        data.features.sort((a, b) => order[a.properties.role] - order[b.properties.role]);
        const layer = L.geoJSON(data, {
          style: (f) => STYLES[f.properties.role] || STYLES.child,
          pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 6, ...STYLES.child }),
          onEachFeature: (f, l) => {
            l.bindTooltip(f.properties.name, { sticky: true });
            if (f.properties.role === "child") {
              l.on("click", () => { window.location.href = el.dataset.placeUrl.replace(/0\/$/, f.properties.id + "/"); });
            }
          },
        }).addTo(map);
        const bounds = layer.getBounds();
        if (bounds.isValid()) {
          map.fitBounds(bounds, { padding: [12, 12] });
          el.dataset.ready = String(data.features.length);
        } else {
          map.remove();
          empty();
        }
      })
      .catch(empty);
  }

  document.querySelectorAll("[data-geojson]").forEach(init);
})();
