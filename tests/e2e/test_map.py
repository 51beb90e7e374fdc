"""In a real browser: a grid maintainer records a small topology, and the map draws the grid with no tile
server, no console error and no Content-Security-Policy violation.

No demo post holds ``grid.edit``, so the test first goes the way an installation would: the
administrator creates a post and asks for it to be granted, the marketing manager approves,
and the new maintainer records a substation, a feeder and a transformer area through the API.
The demo may have generated a grid and accounts of its own; the map then draws those too.
"""

import re

from playwright.sync_api import expect

from .conftest import log_in

AREA = {"type": "Polygon", "coordinates": [[[114.300, 30.600], [114.306, 30.600], [114.306, 30.606],
                                            [114.300, 30.606], [114.300, 30.600]]]}
ROUTE = {"type": "LineString", "coordinates": [[114.290, 30.595], [114.303, 30.603], [114.320, 30.610]]}


def api(page, method: str, path: str, data=None):
    """A JSON call with the page's session (and its CSRF token, as the browser would send it)."""
    token = next((c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"), "")
    response = page.request.fetch(path, method=method, data=data, headers={"X-CSRFToken": token})
    assert response.ok, f"{method} {path}: {response.status} {response.text()}"
    return response.json()


def grant_grid_maintainer(new_page) -> None:
    """admin creates a post with grid.edit and asks for it for 周强 (metering); the manager approves."""
    admin = new_page()
    log_in(admin, "admin")
    post = api(admin, "POST", "/api/v1/posts/", {
        "code": "e2e_grid_maintainer", "label_zh": "电网拓扑维护员", "label_en": "Grid maintainer",
        "permissions": ["grid.view", "grid.edit", "customers.view"]})
    staff = api(admin, "GET", "/api/v1/staff/?q=metering")["results"][0]
    org = next(o for o in api(admin, "GET", "/api/v1/orgs/?q=HZ0101")["results"] if o["code"] == "HZ0101")
    api(admin, "POST", "/api/v1/grant-requests/", {"staff": staff["id"], "post": post["id"], "org": org["id"],
                                                  "scope": "subtree", "reason": "维护临江县电网拓扑"})
    manager = new_page()
    log_in(manager, "manager")
    inbox = api(manager, "GET", "/api/v1/approvals/inbox/")["results"]
    approval = next(a for a in inbox if "电网拓扑维护员" in a["title"])
    api(manager, "POST", f"/api/v1/approvals/{approval['id']}/approve/", {"comment": "同意"})


def test_map_draws_the_topology_without_tiles_or_console_errors(new_page):
    grant_grid_maintainer(new_page)
    page = new_page()
    problems = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    log_in(page, "metering")
    page.goto("/grid/substations/new/")
    org_id = int(page.locator("#id_org option", has_text="临江县").first.get_attribute("value"))
    station = api(page, "POST", "/api/v1/grid/substations/", {
        "org": org_id, "code": "E2E-SS", "name": "城关变", "voltage_level": "AC110KV",
        "longitude": 114.29, "latitude": 30.595})
    feeder = api(page, "POST", "/api/v1/grid/feeders/", {
        "org": org_id, "code": "E2E-FD", "name": "城关一线", "voltage_level": "AC10KV",
        "substation": station["id"], "geometry": ROUTE})
    area = api(page, "POST", "/api/v1/grid/areas/", {
        "org": org_id, "code": "E2E-TA", "name": "幸福台区", "feeder": feeder["id"], "capacity_kva": "400",
        "geometry": AREA})
    assert area["longitude"] == 114.303 and area["latitude"] == 30.603  # the outline's centre
    view = api(page, "GET", "/topology/geojson/areas/?bbox=114.30,30.60,114.306,30.606")
    assert "E2E-TA" in {f["properties"]["code"] for f in view["features"]}

    page.goto("/topology/map/")
    container = page.locator("#topology-map.leaflet-container")
    expect(container).to_be_visible()
    positive = re.compile(r"^[1-9]\d*$")
    expect(container).to_have_attribute("data-count-areas", positive)
    expect(container).to_have_attribute("data-count-feeders", positive)
    expect(container).to_have_attribute("data-count-accounts", re.compile(r"^\d+$"))
    # polygons and lines are SVG paths; the layer control offers the five layers
    assert page.locator("#topology-map path.leaflet-interactive").count() >= 2
    expect(page.locator(".leaflet-control-layers-overlays input")).to_have_count(5)
    assert page.locator(".leaflet-tile").count() == 0  # no tile server configured: nothing fetched from outside
    # a popup names the record and links to its page
    page.locator("#topology-map path.leaflet-interactive").first.click(force=True)
    popup = page.locator(".leaflet-popup-content")
    expect(popup).to_be_visible()
    expect(popup.locator("a")).to_have_attribute("href", re.compile(r"^/(topology/areas|grid/feeders)/\d+/$"))
    # moving the map reloads the layers for the new view
    page.evaluate("() => { document.getElementById('topology-map').dataset.countAreas = 'x'; }")
    page.locator(".leaflet-control-zoom-out").click()
    expect(container).to_have_attribute("data-count-areas", positive)
    assert not problems, problems
