app_name = "addons"
urlpatterns: list = []
