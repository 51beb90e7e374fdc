"""The org tree: materialised paths, subtree queries, level rules, moves, deactivation, scope."""

import pytest

from powercis.core.errors import NotAuthorized, ValidationFailed
from powercis.core.models import AuditRecord, Org, OrgLevel, Post


def codes(qs):
    return sorted(qs.values_list("code", flat=True))


def test_paths_encode_the_ancestry(org):
    station = org("HZ010101")
    ids = [o.pk for o in Org.objects.ancestors_of(station)]
    assert ids == [org("HZ").pk, org("HZ01").pk, org("HZ0101").pk, station.pk]
    assert station.path == "".join(f"{pk:09d}/" for pk in ids)
    assert station.depth == 3 and station.company_id == org("HZ").pk


def test_subtree_is_a_prefix_query(org):
    assert codes(Org.objects.subtree(org("HZ01"))) == ["HZ01", "HZ0101", "HZ010101", "HZ010102", "HZ0102", "HZ010201"]
    assert codes(Org.objects.subtree(org("HZ010101"))) == ["HZ010101"]


def test_admin_creates_an_org_with_audit(actor, org):
    from powercis.core.services.orgs import create_org

    new = create_org(
        actor("admin"), parent=org("HZ0101"), code="HZ010103", name="新港供电所", level=OrgLevel.STATION)
    assert new.path == org("HZ0101").path + f"{new.pk:09d}/"
    record = AuditRecord.objects.get(object_type="core.org", object_id=str(new.pk), action="create")
    assert record.changes["name"] == [None, "新港供电所"]
    assert record.actor.username == "admin" and record.post_code == "sysadmin"
    assert record.source_ip == "10.0.0.8"


@pytest.mark.parametrize("level", [OrgLevel.PROVINCE, OrgLevel.CITY, OrgLevel.COUNTY])
def test_a_child_must_sit_below_its_parent_level(actor, org, level):
    from powercis.core.services.orgs import create_org

    with pytest.raises(ValidationFailed) as exc:
        create_org(actor("admin"), parent=org("HZ0101"), code="X1", name="x", level=level)
    assert "level" in exc.value.fields
    assert not Org.objects.filter(code="X1").exists()


def test_codes_are_unique_case_insensitively(actor, org):
    from powercis.core.services.orgs import create_org

    with pytest.raises(ValidationFailed) as exc:
        create_org(actor("admin"), parent=org("HZ0101"), code="hz010101", name="重复", level=OrgLevel.STATION)
    assert "HZ010101" in str(exc.value.fields["code"][0]) or "hz010101" in str(exc.value.fields["code"][0])


def test_move_rewrites_the_whole_subtree(actor, org):
    from powercis.core.services.orgs import move_org

    county = org("HZ0102")
    move_org(actor("admin"), county, org("HZ02"), reason="区划调整")
    moved = {o.code: o for o in Org.objects.subtree(org("HZ02"))}
    assert set(moved) == {"HZ02", "HZ0201", "HZ020101", "HZ0102", "HZ010201"}
    assert moved["HZ010201"].path == org("HZ02").path + f"{county.pk:09d}/{moved['HZ010201'].pk:09d}/"
    assert moved["HZ010201"].depth == 3
    assert org("HZ0102").parent_id == org("HZ02").pk
    assert codes(Org.objects.subtree(org("HZ01"))) == ["HZ01", "HZ0101", "HZ010101", "HZ010102"]
    record = AuditRecord.objects.filter(object_type="core.org", object_id=str(county.pk), action="update").latest("seq")
    assert record.changes["parent_id"] == [org("HZ01").pk, org("HZ02").pk]
    assert record.reason == "区划调整"


def test_an_org_cannot_move_below_itself(actor, org):
    from powercis.core.services.orgs import move_org

    with pytest.raises(ValidationFailed):
        move_org(actor("admin"), org("HZ01"), org("HZ0101"))


def test_deactivation_refused_while_children_or_staff_are_active(actor, org):
    from powercis.core.services.orgs import set_org_active

    with pytest.raises(ValidationFailed):
        set_org_active(actor("admin"), org("HZ0101"), False, reason="撤并")
    with pytest.raises(ValidationFailed):  # the reader works at 城关供电所
        set_org_active(actor("admin"), org("HZ010101"), False, reason="撤并")
    done = set_org_active(actor("admin"), org("HZ020101"), False, reason="撤并")
    assert done.is_active is False


def test_scope_limits_where_an_administrator_may_create(actor, org, system_actor, staff):
    """A county administrator (scope: own county and below) cannot create orgs in another county."""
    from powercis.core.services.orgs import create_org
    from powercis.core.services.posts import bootstrap_grant
    from powercis.core.services.staff import create_staff

    county_admin, _pw = create_staff(system_actor, username="cadmin", full_name="县管理员", org=org("HZ0101"),
                                     password="Xy7!long-enough")
    bootstrap_grant(system_actor, staff=county_admin, post=Post.objects.get(company=org("HZ"), code="sysadmin"),
                    org=org("HZ0101"), scope="subtree")
    from powercis.core.context import Actor

    a = Actor(user=staff("cadmin"))
    create_org(a, parent=org("HZ0101"), code="HZ010109", name="新所", level=OrgLevel.STATION)
    with pytest.raises(NotAuthorized) as exc:
        create_org(a, parent=org("HZ0102"), code="HZ010209", name="越权所", level=OrgLevel.STATION)
    assert "青山区供电公司" in str(exc.value)
    assert not Org.objects.filter(code="HZ010209").exists()


def test_only_an_installation_administrator_creates_companies(actor, system_actor):
    from powercis.core.services.orgs import create_company

    with pytest.raises(NotAuthorized):
        create_company(actor("admin"), code="XY", name="新区配售电公司")
    company = create_company(system_actor, code="XY", name="新区配售电公司", level=OrgLevel.COUNTY)
    assert company.company_id == company.pk and company.depth == 0
    # a new company gets its own posts, code tables and rules
    assert Post.objects.filter(company=company).count() == 12
    assert company.path == f"{company.pk:09d}/"
