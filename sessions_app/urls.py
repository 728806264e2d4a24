from sessions_app import fix_urls, session_urls
from sessions_app.memory import urls as memory_urls

urlpatterns = [*session_urls.urlpatterns, *fix_urls.urlpatterns, *memory_urls.urlpatterns]
