/* powercis maps (Leaflet): the topology map with layers loaded per view, and the one-account map.
 *
 * No inline script or style: a map is an element with data- attributes.
 *   data-pc-map="layers"  the full map; data-config-script names a JSON block {layers: [{name, url, on}], extent}
 *                         each visible layer is fetched as GeoJSON for the current view (?bbox=…) after every move.
 *   data-pc-map="single"  one set of features (an account, its area and feeder), from data-geojson-url,
 *                         from a JSON block named by data-geojson-script, or from data-geojson itself.
 *   data-map-settings     JSON {tileUrl, tileAttribution, labels}; no tileUrl = no background tiles (works offline).
 * Popups are built from DOM nodes with textContent, never from HTML strings. */
(function () {
  "use strict";

  var DEFAULT_CENTRE = [30.6, 114.3];
  var STYLES = {
    feeder: { color: "#d9480f", weight: 3, opacity: 0.9 },
    area: { color: "#1c7ed6", weight: 1.5, fillColor: "#74c0fc", fillOpacity: 0.25 },
    community: { color: "#2f9e44", weight: 1, dashArray: "4 3", fillColor: "#8ce99a", fillOpacity: 0.15 },
    building: { color: "#5f3dc4", weight: 1, fillColor: "#b197fc", fillOpacity: 0.35 },
    account: { radius: 4, color: "#212529", weight: 1, fillColor: "#fab005", fillOpacity: 0.9 },
    substation: { radius: 7, color: "#c92a2a", weight: 2, fillColor: "#ffffff", fillOpacity: 1 }
  };
  var LAYER_OF = { feeders: "feeder", areas: "area", communities: "community", buildings: "building", accounts: "account" };

  function jsonAttr(el, name) {
    var raw = el.getAttribute(name);
    return raw ? JSON.parse(raw) : {};
  }

  function jsonBlock(id) {
    var block = id && document.getElementById(id);
    return block ? JSON.parse(block.textContent) : null;
  }

  function text(tag, value, className) {
    var node = document.createElement(tag);
    node.textContent = value == null ? "" : String(value);
    if (className) { node.className = className; }
    return node;
  }

  function popup(props, labels) {
    var root = document.createElement("div");
    root.className = "pc-map-popup";
    var title = props.layer === "account" ? props.account_no + " " + props.name : props.name + " (" + props.code + ")";
    root.appendChild(text("div", title, "pc-map-title"));
    var facts = [];
    if (props.layer === "account") { facts.push([labels.status, props.status_label]); }
    if (props.layer === "area") {
      facts.push([labels.ownership, props.ownership], [labels.capacity, props.capacity_kva], [labels.feeder, props.feeder]);
    }
    if (props.layer === "feeder") { facts.push([labels.voltage, props.voltage_level], [labels.substation, props.substation]); }
    if (props.layer === "community") { facts.push([labels.address, props.address]); }
    if (props.layer === "building") { facts.push([labels.community, props.community_name]); }
    if (facts.length) {
      var dl = document.createElement("dl");
      facts.forEach(function (fact) {
        if (fact[1] === undefined || fact[1] === "") { return; }
        dl.appendChild(text("dt", fact[0]));
        dl.appendChild(text("dd", fact[1]));
      });
      root.appendChild(dl);
    }
    if (props.url) {
      var link = text("a", labels.open || "Open");
      link.href = props.url;
      root.appendChild(link);
    }
    return root;
  }

  function geoLayer(labels, canvas) {
    return L.geoJSON(null, {
      style: function (feature) { return STYLES[feature.properties.layer] || {}; },
      pointToLayer: function (feature, latlng) {
        var style = STYLES[feature.properties.layer] || STYLES.account;
        return L.circleMarker(latlng, L.extend({ renderer: canvas }, style));
      },
      onEachFeature: function (feature, layer) {
        layer.bindPopup(function () { return popup(feature.properties, labels); });
      }
    });
  }

  function baseMap(el, settings) {
    var map = L.map(el, { preferCanvas: false, zoomControl: true, attributionControl: true });
    if (settings.tileUrl) {
      L.tileLayer(settings.tileUrl, { attribution: settings.tileAttribution || "", maxZoom: 19 }).addTo(map);
    }
    map.attributionControl.setPrefix(false);
    L.control.scale({ imperial: false }).addTo(map);
    return map;
  }

  function noteFor(el) {
    var next = el.nextElementSibling;
    while (next && !next.hasAttribute("data-map-note")) { next = next.nextElementSibling; }
    return next;
  }

  function showNote(el, message) {
    var note = noteFor(el);
    if (!note) { return; }
    note.textContent = message || "";
    note.hidden = !message;
  }

  function bboxOf(map) {
    var b = map.getBounds();
    var clamp = function (v, lim) { return Math.max(-lim, Math.min(lim, v)); };
    return [clamp(b.getWest(), 180), clamp(b.getSouth(), 90), clamp(b.getEast(), 180), clamp(b.getNorth(), 90)]
      .map(function (v) { return v.toFixed(6); }).join(",");
  }

  function initLayers(el, settings) {
    var config = jsonBlock(el.dataset.configScript) || {};
    var labels = settings.labels || {};
    var map = baseMap(el, settings);
    var canvas = L.canvas({ padding: 0.2 });
    var overlays = {};
    var entries = (config.layers || []).map(function (spec) {
      var entry = { spec: spec, layer: geoLayer(labels, canvas), controller: null, truncated: false };
      overlays[labels[spec.name] || spec.name] = entry.layer;
      if (spec.on) { entry.layer.addTo(map); }
      return entry;
    });
    L.control.layers(null, overlays, { collapsed: false }).addTo(map);
    if (config.extent) {
      var e = config.extent;
      map.fitBounds([[e[1], e[0]], [e[3], e[2]]], { padding: [20, 20], maxZoom: 16 });
    } else {
      map.setView(DEFAULT_CENTRE, 12);
    }

    function refreshNote() {
      var failed = entries.some(function (x) { return x.failed && map.hasLayer(x.layer); });
      var truncated = entries.some(function (x) { return x.truncated && map.hasLayer(x.layer); });
      showNote(el, failed ? labels.loadFailed : (truncated ? labels.truncated : ""));
      el.dataset.loaded = String(entries.filter(function (x) { return x.loaded; }).length);
    }

    function load(entry) {
      if (!map.hasLayer(entry.layer)) { return; }
      if (entry.controller) { entry.controller.abort(); }
      entry.controller = new AbortController();
      var url = entry.spec.url + "?bbox=" + encodeURIComponent(bboxOf(map));
      fetch(url, { credentials: "same-origin", signal: entry.controller.signal, headers: { Accept: "application/geo+json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(response.status); }
          return response.json();
        })
        .then(function (data) {
          entry.layer.clearLayers();
          entry.layer.addData(data);
          entry.truncated = !!data.truncated;
          entry.failed = false;
          entry.loaded = true;
          el.setAttribute("data-count-" + entry.spec.name, String(data.features.length));
          refreshNote();
        })
        .catch(function (error) {
          if (error.name === "AbortError") { return; }
          entry.failed = true;
          refreshNote();
        });
    }

    var timer = null;
    function reloadAll() {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { entries.forEach(load); }, 150);
    }
    map.on("moveend", reloadAll);
    map.on("overlayadd", function (event) {
      entries.forEach(function (entry) { if (entry.layer === event.layer) { load(entry); } });
    });
    map.on("overlayremove", refreshNote);
    entries.forEach(load);
    return map;
  }

  function initSingle(el, settings) {
    var labels = settings.labels || {};
    var map = baseMap(el, settings);
    var layer = geoLayer(labels, L.canvas()).addTo(map);

    // Centre on the account and its area; a feeder can run for kilometres and would shrink them to a dot.
    var FOCUS = { account: true, area: true };

    function draw(data) {
      layer.addData(data);
      el.setAttribute("data-count-features", String((data.features || []).length));
      var bounds = L.latLngBounds([]);
      layer.eachLayer(function (item) {
        if (FOCUS[item.feature.properties.layer]) {
          bounds.extend(item.getBounds ? item.getBounds() : item.getLatLng());
        }
      });
      if (!bounds.isValid()) { bounds = layer.getBounds(); }
      if (bounds.isValid()) {
        map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17 });
      } else {
        map.setView(DEFAULT_CENTRE, 10);
        showNote(el, labels.noLocation);
      }
      el.dataset.loaded = "1";
    }

    var inline = jsonBlock(el.dataset.geojsonScript) || (el.dataset.geojson ? JSON.parse(el.dataset.geojson) : null);
    if (inline) {
      draw(inline);
    } else if (el.dataset.geojsonUrl) {
      fetch(el.dataset.geojsonUrl, { credentials: "same-origin", headers: { Accept: "application/geo+json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(response.status); }
          return response.json();
        })
        .then(draw)
        .catch(function () { map.setView(DEFAULT_CENTRE, 10); showNote(el, labels.loadFailed); });
    }
    return map;
  }

  function initMaps(root) {
    if (!window.L) { return; }
    root.querySelectorAll("[data-pc-map]").forEach(function (el) {
      if (el.dataset.mapReady) { return; }
      el.dataset.mapReady = "1";
      var settings = jsonAttr(el, "data-map-settings");
      var map = el.dataset.pcMap === "layers" ? initLayers(el, settings) : initSingle(el, settings);
      // A map inside a panel that was hidden while it loaded needs to measure itself again.
      window.addEventListener("resize", function () { map.invalidateSize(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { initMaps(document); });
  } else {
    initMaps(document);
  }
  document.addEventListener("htmx:afterSwap", function (event) { initMaps(event.target); });
})();
