"""Routes of a tenant host's HTML pages: "/" and the Settings -> API Settings pages."""

from django.urls import include, path

from tokens.settings_ui import views

urlpatterns = [
    path("", views.root_redirect, name="tenant-home"),
    path("settings/", views.root_redirect, name="settings-home"),
    path("settings/login/", views.login_view, name="settings-login"),
    path("settings/logout/", views.logout_view, name="settings-logout"),
    # django.views.i18n.set_language, named "set_language": stores the choice in a cookie.
    path("settings/i18n/", include("django.conf.urls.i18n")),
    path("settings/api/", views.token_list, name="settings-api"),
    path("settings/api/tokens/new/", views.token_create, name="settings-token-create"),
    path("settings/api/policy/", views.token_policy, name="settings-token-policy"),
    path(
        "settings/api/tokens/<int:token_id>/issued/",
        views.token_issued,
        name="settings-token-issued",
    ),
    path(
        "settings/api/tokens/<int:token_id>/revoke/",
        views.token_revoke,
        name="settings-token-revoke",
    ),
    path(
        "settings/api/tokens/<int:token_id>/regenerate/",
        views.token_regenerate,
        name="settings-token-regenerate",
    ),
    path(
        "settings/api/tokens/<int:token_id>/edit/",
        views.token_edit,
        name="settings-token-edit",
    ),
    path(
        "settings/api/tokens/<int:token_id>/activity/",
        views.token_activity,
        name="settings-token-activity",
    ),
]
