from django.urls import include, path

from schoolgate.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("accounts/", include("schoolgate.accounts.urls")),
    path("staff/mis/", include("schoolgate.mis.urls")),
    path("staff/addons/", include("schoolgate.addons.urls")),
    path("staff/outbox/", include("schoolgate.outbox.urls")),
    path("parents/", include("schoolgate.portal.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
]
