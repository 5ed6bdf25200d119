app_name = "calendar"
urlpatterns: list = []  # the calendar feed's URLs go here
