"""Sign in and out."""
from django.contrib.auth import views as auth

login_view = auth.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True)
logout_view = auth.LogoutView.as_view()
