"""Orgs: data scope on reads, every write through the org services, audited."""

from __future__ import annotations

from powercis.core.models import AuditRecord, Org

HZ01_SUBTREE = {"HZ01", "HZ0101", "HZ010101", "HZ010102", "HZ0102", "HZ010201"}


def codes(response) -> set[str]:
    return {row["code"] for row in response.json()["results"]}


def test_reader_without_view_orgs_is_refused_naming_the_permission(api):
    response = api("reader").get("/api/v1/orgs/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "查看组织机构" in response.json()["message"]


def test_manager_sees_exactly_the_hz01_subtree(api):
    response = api("manager").get("/api/v1/orgs/")
    assert response.status_code == 200
    assert codes(response) == HZ01_SUBTREE
    assert response.json()["count"] == len(HZ01_SUBTREE)


def test_org_outside_the_scope_is_404_not_403(api, org):
    manager = api("manager")
    assert manager.get(f"/api/v1/orgs/{org('HZ0101').pk}/").json()["name"] == "临江县供电公司"
    outside = manager.get(f"/api/v1/orgs/{org('HZ02').pk}/")
    assert outside.status_code == 404 and outside.json()["code"] == "not_found"
    assert manager.get(f"/api/v1/orgs/{org('HZ02').pk}/subtree/").status_code == 404


def test_filters_narrow_the_scoped_list(api, org):
    admin = api("admin")
    assert codes(admin.get("/api/v1/orgs/", {"parent": org("HZ0101").pk})) == {"HZ010101", "HZ010102"}
    assert codes(admin.get("/api/v1/orgs/", {"level": "city"})) == {"HZ01", "HZ02"}
    assert codes(admin.get("/api/v1/orgs/", {"q": "白沙"})) == {"HZ02", "HZ0201", "HZ020101"}
    assert codes(admin.get("/api/v1/orgs/", {"company": org("HZ").pk, "level": "province"})) == {"HZ"}
    # a filter never widens the scope
    assert codes(api("manager").get("/api/v1/orgs/", {"parent": org("HZ").pk})) == {"HZ01"}


def test_subtree_lists_the_org_and_its_descendants_within_scope(api, org):
    response = api("manager").get(f"/api/v1/orgs/{org('HZ0101').pk}/subtree/")
    assert codes(response) == {"HZ0101", "HZ010101", "HZ010102"}
    assert codes(api("admin").get(f"/api/v1/orgs/{org('HZ').pk}/subtree/", {"page_size": 3})) == {"HZ", "HZ01", "HZ0101"}


def test_admin_creates_an_org_under_hz0101_and_it_is_audited(api, org):
    parent = org("HZ0101")
    response = api("admin").post("/api/v1/orgs/", {
        "parent": parent.pk, "code": "HZ010103", "name": "新港供电所", "level": "station", "phone": "0571-1234567",
    })
    assert response.status_code == 201
    body = response.json()
    assert (body["code"], body["name"], body["level"], body["parent"], body["company"], body["depth"]) == (
        "HZ010103", "新港供电所", "station", parent.pk, org("HZ").pk, 3)
    created = Org.objects.get(pk=body["id"])
    assert created.path.startswith(parent.path) and created.is_within(parent)
    record = AuditRecord.objects.get(action="create", object_type="core.org", object_id=str(created.pk))
    assert record.actor.username == "admin" and record.channel == "api" and record.post_code == "sysadmin"
    assert record.changes["code"] == [None, "HZ010103"]


def test_creating_a_company_needs_the_installation_scope(api):
    response = api("admin").post("/api/v1/orgs/", {"code": "NEWCO", "name": "新公司", "level": "province"})
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not Org.objects.filter(code="NEWCO").exists()


def test_service_rules_come_back_as_validation_errors(api, org):
    admin = api("admin")
    duplicate = admin.post("/api/v1/orgs/", {"parent": org("HZ0101").pk, "code": "hz0102", "name": "x",
                                             "level": "station"})
    assert duplicate.status_code == 400 and list(duplicate.json()["fields"]) == ["code"]
    upside_down = admin.post("/api/v1/orgs/", {"parent": org("HZ0101").pk, "code": "HZ9", "name": "x",
                                               "level": "city"})
    assert upside_down.status_code == 400 and list(upside_down.json()["fields"]) == ["level"]


def test_partial_update_changes_only_the_given_fields_with_the_reason(api, org):
    target = org("HZ0102")
    response = api("admin").patch(f"/api/v1/orgs/{target.pk}/", {"short_name": "青山", "reason": "简称规范"})
    assert response.status_code == 200 and response.json()["short_name"] == "青山"
    target.refresh_from_db()
    assert (target.short_name, target.name) == ("青山", "青山区供电公司")
    record = AuditRecord.objects.filter(action="update", object_id=str(target.pk)).latest("seq")
    assert record.changes == {"short_name": ["", "青山"]} and record.reason == "简称规范"


def test_manager_may_view_but_not_change_orgs(api, org):
    manager = api("manager")
    assert manager.get(f"/api/v1/orgs/{org('HZ0101').pk}/").status_code == 200
    response = manager.patch(f"/api/v1/orgs/{org('HZ0101').pk}/", {"name": "改名"})
    assert response.status_code == 403 and "维护组织机构" in response.json()["message"]


def test_move_reparents_the_whole_subtree(api, org):
    moved, new_parent = org("HZ0102"), org("HZ02")
    response = api("admin").post(f"/api/v1/orgs/{moved.pk}/move/", {"parent": new_parent.pk, "reason": "区划调整"})
    assert response.status_code == 200 and response.json()["parent"] == new_parent.pk
    child = org("HZ010201")
    assert child.is_within(new_parent) and child.depth == 3
    assert codes(api("manager").get("/api/v1/orgs/")) == HZ01_SUBTREE - {"HZ0102", "HZ010201"}


def test_set_active_is_refused_while_children_are_active(api, org):
    admin = api("admin")
    refused = admin.post(f"/api/v1/orgs/{org('HZ0101').pk}/set_active/", {"is_active": False, "reason": "撤并"})
    assert refused.status_code == 400 and refused.json()["code"] == "validation_failed"
    assert org("HZ0101").is_active
    leaf = org("HZ010201")
    done = admin.post(f"/api/v1/orgs/{leaf.pk}/set_active/", {"is_active": False, "reason": "撤并"})
    assert done.status_code == 200 and done.json()["is_active"] is False
    # deactivated orgs stay visible (and can be found again to reactivate them)
    assert "HZ010201" in codes(admin.get("/api/v1/orgs/", {"is_active": False}))
