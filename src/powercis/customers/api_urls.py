"""URLs of the customer archive's REST API, mounted at /api/v1/customers/."""

from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("accounts", api.AccountViewSet, basename="customers-account")
router.register("customers", api.CustomerViewSet, basename="customers-customer")
router.register("changes", api.ChangeViewSet, basename="customers-change")
router.register("contracts", api.ContractViewSet, basename="customers-contract")

urlpatterns = router.urls
