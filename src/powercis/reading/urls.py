"""Meter reading pages: routes, plans, the reader's walk, exceptions, deliveries, collection, thresholds, indicators."""

from django.urls import path

from .views import batches, channels, exceptions, handheld, indicators, plans, routes, thresholds

app_name = "reading"

urlpatterns = [
    path("routes/", routes.route_list, name="route_list"),
    path("routes/new/", routes.route_create, name="route_create"),
    path("routes/<int:pk>/", routes.route_detail, name="route_detail"),
    path("routes/<int:pk>/edit/", routes.route_edit, name="route_edit"),
    path("plans/", plans.plan_list, name="plan_list"),
    path("plans/generate/", plans.plan_generate, name="plan_generate"),
    path("plans/validate/", plans.plan_validate, name="plan_validate"),
    path("plans/release/", plans.plan_release_period, name="plan_release_period"),
    path("plans/<int:pk>/", plans.plan_detail, name="plan_detail"),
    path("plans/<int:pk>/release/", plans.plan_release, name="plan_release"),
    path("plans/<int:pk>/reassign/", plans.plan_reassign, name="plan_reassign"),
    path("plans/<int:pk>/sheet/", plans.plan_sheet_export, name="plan_sheet_export"),
    path("plans/<int:pk>/sheet/import/", plans.plan_sheet_import, name="plan_sheet_import"),
    path("mine/", handheld.my_routes, name="my_routes"),
    path("handheld/<int:plan_pk>/", handheld.walk_start, name="handheld"),
    path("handheld/<int:plan_pk>/<int:task_pk>/", handheld.stop, name="handheld_stop"),
    path("exceptions/", exceptions.exception_list, name="exception_list"),
    path("exceptions/confirm/", exceptions.exception_confirm_many, name="exception_confirm_many"),
    path("exceptions/<int:pk>/", exceptions.exception_detail, name="exception_detail"),
    path("exceptions/<int:pk>/<str:action>/", exceptions.exception_act, name="exception_act"),
    path("deliveries/", batches.batch_list, name="batch_list"),
    path("deliveries/upload/", batches.batch_upload, name="batch_upload"),
    path("deliveries/<int:pk>/", batches.batch_detail, name="batch_detail"),
    path("channels/", channels.channel_list, name="channel_list"),
    path("channels/new/", channels.channel_create, name="channel_create"),
    path("channels/<int:pk>/", channels.channel_detail, name="channel_detail"),
    path("channels/<int:pk>/edit/", channels.channel_edit, name="channel_edit"),
    path("channels/<int:pk>/targets/", channels.channel_targets, name="channel_targets"),
    path("channels/<int:pk>/targets/remove/", channels.channel_targets_remove, name="channel_targets_remove"),
    path("channels/<int:pk>/run/", channels.channel_run, name="channel_run"),
    path("thresholds/", thresholds.threshold_page, name="thresholds"),
    path("indicators/", indicators.indicator_page, name="indicators"),
]
