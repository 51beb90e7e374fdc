"""Page-number pagination with a client-chosen page size up to 500."""

from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        """The requested page size (capped at 500); a value that is not a whole number of at least 1 is refused."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None:
            try:
                serializers.IntegerField(min_value=1).run_validation(raw)
            except ValidationError as exc:
                raise ValidationError({self.page_size_query_param: exc.detail}) from exc
        return super().get_page_size(request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = f"results per page: {self.page_size} unless given, at most {self.max_page_size}"
        return parameters
