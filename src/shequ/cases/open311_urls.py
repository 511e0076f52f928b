"""Open311 GeoReport v2 routes (mounted at ``/open311/v2/``); every resource ends in ``.json`` or ``.xml``."""

from django.urls import re_path

from shequ.cases import open311

FMT = r"\.(?P<fmt>json|xml)$"
CODE = r"(?P<code>[-A-Za-z0-9_]{1,40})"
ID = r"(?P<request_id>[-A-Za-z0-9_]{1,40})"

app_name = "open311"
urlpatterns = [
    re_path(r"^services" + FMT, open311.services, name="services"),
    re_path(r"^services/" + CODE + FMT, open311.service_definition, name="service"),
    re_path(r"^requests" + FMT, open311.requests, name="requests"),
    re_path(r"^requests/" + ID + FMT, open311.request_detail, name="request"),
    re_path(r"^tokens/(?P<token>[-A-Za-z0-9_]{1,64})" + FMT, open311.token_detail, name="token"),
]
