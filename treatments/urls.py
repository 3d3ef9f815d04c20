app_name = "treatments"
urlpatterns = []
