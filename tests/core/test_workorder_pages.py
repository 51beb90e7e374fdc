"""The work-order pages: the list with its filters and scope, one order with its source, complete and cancel."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from powercis.core import workorders
from powercis.core.errors import ValidationFailed
from powercis.core.models import AuditRecord, Org, WorkOrder
from powercis.core.services import workorders as services
from powercis.reading.models import ReadException, ReadingPlan
from powercis.reading.services import entry, exceptions, plans
from tests import archive_factory as make
from tests.reading import factory
from tests.reading.test_pages import _english, login, text  # noqa: F401  (English pages, a logged-in client)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 20)


def listed(page: str) -> list[str]:
    return re.findall(r'data-workorder="([^"]+)"', page)


def raise_order(org_code: str, *, kind=WorkOrder.Kind.REREAD, account_no="", due_on=None, assignee=None, title="",
                source_ref=""):
    return services.raise_order(make.system(), org=Org.objects.get(code=org_code), kind=kind,
                                title=title or f"{kind} {org_code}", account_no=account_no, due_on=due_on,
                                assignee=assignee, source_ref=source_ref)


@pytest.fixture
def orders(staff):
    """Four orders: three in 城关 (HZ010101, HZ010102), one in 青山 (HZ010201, another county)."""
    return {
        "reread": raise_order("HZ010101", account_no="3301000001", due_on=TODAY, assignee=staff("reader")),
        "check": raise_order("HZ010102", kind=WorkOrder.Kind.FIELD_CHECK, account_no="3301000002",
                             due_on=TODAY + dt.timedelta(days=10)),
        "late": raise_order("HZ010101", account_no="3301000003", due_on=TODAY - dt.timedelta(days=5)),
        "foreign": raise_order("HZ010201", account_no="3302000001", due_on=TODAY),
    }


def test_the_list_shows_the_open_orders_in_scope_soonest_due_first(login, orders):
    page = text(login("clerk").get(reverse("core:workorder_list")))
    assert listed(page) == [orders[k].number for k in ("late", "reread", "check")]  # not 青山's
    row = re.search(rf'data-workorder="{orders["reread"].number}".*?</tr>', page, re.S).group(0)
    assert "3301000001" in row and "李明" in row and "2026-11-20" in row and "Re-read" in row
    assert f'href="{reverse("core:workorder_detail", args=[orders["reread"].pk])}"' in row
    manager = text(login("manager").get(reverse("core:workorder_list")))
    assert orders["foreign"].number in listed(manager) and len(listed(manager)) == 4


def test_the_filters_narrow_the_list(login, orders, staff):
    client = login("clerk")
    url = reverse("core:workorder_list")

    def numbers(**query):
        return listed(text(client.get(url, query)))

    assert numbers(kind="field_check") == [orders["check"].number]
    assert numbers(assignee=staff("reader").pk) == [orders["reread"].number]
    assert numbers(org=Org.objects.get(code="HZ010102").pk) == [orders["check"].number]
    assert numbers(due_from="2026-11-16", due_to="2026-11-25") == [orders["reread"].number]
    assert numbers(q="3301000003") == [orders["late"].number]
    assert numbers(q=orders["check"].number) == [orders["check"].number]
    services.cancel_order(make.system(), orders["late"], reason="重复", perm="reading.review")
    assert orders["late"].number not in numbers()
    assert numbers(status="cancelled") == [orders["late"].number]
    assert len(numbers(status="all")) == 3
    # an org outside the scope is not offered, and filtering by it shows nothing rather than its orders
    bad = text(client.get(url, {"org": Org.objects.get(code="HZ010201").pk}))
    assert listed(bad) == [] and "Select a valid choice" in bad
    reversed_range = text(client.get(url, {"due_from": "2026-11-25", "due_to": "2026-11-16"}))
    assert listed(reversed_range) == [] and "The end of the due range lies before its start." in reversed_range


def test_orders_outside_the_scope_do_not_exist_and_others_have_no_page(login, orders):
    clerk = login("clerk")
    assert clerk.get(reverse("core:workorder_detail", args=[orders["foreign"].pk])).status_code == 404
    assert clerk.post(reverse("core:workorder_complete", args=[orders["foreign"].pk]),
                      {"complete-text": "x"}).status_code == 404
    assert WorkOrder.objects.get(pk=orders["foreign"].pk).status == "open"
    assert login("cashier").get(reverse("core:workorder_list")).status_code == 403
    assert 'data-nav="core:workorder_list"' not in text(login("cashier").get(reverse("web:dashboard")))
    assert 'data-nav="core:workorder_list"' in text(login("reader").get(reverse("web:dashboard")))


def test_the_reader_sees_the_orders_of_his_office_and_closes_his_own(login, orders):
    reader = login("reader")  # 李明: 城关供电所 (HZ010101) only
    assert listed(text(reader.get(reverse("core:workorder_list")))) == [orders[k].number for k in ("late", "reread")]
    own = text(reader.get(reverse("core:workorder_detail", args=[orders["reread"].pk])))
    assert 'id="workorder-complete"' in own  # assigned to him
    other = text(reader.get(reverse("core:workorder_detail", args=[orders["late"].pk])))
    assert 'id="workorder-complete"' not in other  # not his, and he does not review
    refused = text(reader.post(reverse("core:workorder_complete", args=[orders["late"].pk]),
                               {"complete-text": "done"}, follow=True))
    assert "You do not have the permission “Review meter reads”." in refused
    assert WorkOrder.objects.get(pk=orders["late"].pk).status == "open"


def test_completing_and_cancelling_go_through_the_service_with_a_result(login, orders):
    client = login("clerk")
    order = orders["check"]
    page = text(client.get(reverse("core:workorder_detail", args=[order.pk])))
    assert 'id="workorder-complete"' in page and 'id="workorder-cancel"' in page
    empty = text(client.post(reverse("core:workorder_complete", args=[order.pk]), {"complete-text": "  "},
                             follow=True))
    assert "Say what was done or why the order is closed." in empty
    assert WorkOrder.objects.get(pk=order.pk).status == "open"
    done = text(client.post(reverse("core:workorder_complete", args=[order.pk]),
                            {"complete-text": "现场核实表计正常"}, follow=True))
    assert f"Work order {order.number} was completed: 现场核实表计正常" in done
    assert 'id="workorder-result">现场核实表计正常<' in done and 'id="workorder-complete"' not in done
    order.refresh_from_db()
    assert (order.status, order.result, order.completed_at is not None) == ("done", "现场核实表计正常", True)
    record = AuditRecord.objects.filter(object_type="core.workorder", object_id=str(order.pk),
                                        action="update").latest("seq")
    assert record.reason == "现场核实表计正常" and record.actor_name
    twice = text(client.post(reverse("core:workorder_cancel", args=[orders["check"].pk]),
                             {"cancel-text": "不需要"}, follow=True))
    assert f"The work order {order.number} is already closed." in twice
    cancelled = text(client.post(reverse("core:workorder_cancel", args=[orders["late"].pk]),
                                 {"cancel-text": "客户已销户"}, follow=True))
    assert f"Work order {orders['late'].number} was cancelled: 客户已销户" in cancelled
    assert WorkOrder.objects.get(pk=orders["late"].pk).status == "cancelled"


def test_the_service_refuses_closing_without_a_text(orders):
    with pytest.raises(ValidationFailed) as bad:
        services.complete_order(make.system(), orders["check"], result=" ", perm="reading.review")
    assert bad.value.fields == {"result": ["Say what was done or why the order is closed."]}
    with pytest.raises(ValidationFailed) as bad_cancel:
        services.cancel_order(make.system(), orders["check"], reason="", perm="reading.review")
    assert list(bad_cancel.value.fields) == ["reason"]
    assert WorkOrder.objects.get(pk=orders["check"].pk).status == "open"


def test_a_reread_order_links_back_to_its_exception_and_plan(login, staff, actor):
    route = factory.route("HZ010101", code="R-WO", reader=staff("reader"))
    factory.metered_account("HZ010101", route="R-WO", order=1, installed_on=dt.date(2026, 1, 5),
                            install_reads={"total": "500.00", "peak": "150.00", "flat": "200.00",
                                           "valley": "150.00"})
    period = timezone.localdate().replace(day=1)
    plans.generate(make.system(), org=Org.objects.get(code="HZ010101"), period=period)
    plan = ReadingPlan.objects.get(route=route, period=period)
    task = plan.tasks.get()
    entry.record_reads(actor("reader"), task, values={"total": "100.00", "peak": "30.00", "flat": "40.00",
                                                      "valley": "30.00"})  # below the start: an exception
    plans.validate(make.system(), [plan])
    exc = ReadException.objects.filter(task=task, status="open").first()
    order = exceptions.order_reread(actor("clerk"), exc, note="表计显示不清")
    page = text(login("clerk").get(reverse("core:workorder_detail", args=[order.pk])))
    source = re.search(r'id="workorder-source">(.*?)</dd>', page, re.S).group(1)
    assert f'href="{reverse("reading:exception_detail", args=[exc.pk])}"' in source
    assert f'href="{reverse("reading:plan_detail", args=[plan.pk])}"' in source and "R-WO" in source
    assert "表计显示不清" in page
    assert workorders.source_links(staff("cashier"), order) == []  # no reading scope: no links


def test_an_order_from_an_unknown_source_shows_its_reference(login, orders):
    order = raise_order("HZ010101", source_ref="inspection.visit:7")
    page = text(login("clerk").get(reverse("core:workorder_detail", args=[order.pk])))
    assert re.search(r'id="workorder-source">inspection.visit:7</dd>', page)
