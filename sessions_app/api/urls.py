from sessions_app.api import fix_urls, session_urls

urlpatterns = [*session_urls.urlpatterns, *fix_urls.urlpatterns]
