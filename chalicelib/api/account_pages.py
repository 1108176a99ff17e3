"""Pages the account mails link to: choose a new password, confirm a new e-mail address."""
from chalice import Blueprint

from chalicelib.api import schemas
from chalicelib.api.http import endpoint
from chalicelib.pages import render_page
from chalicelib.services import account_link_pages

bp = Blueprint(__name__)


@endpoint(bp, "/reset-password/{token}", "GET", summary="The page a password_reset mail links to", public=True,
          media_type="text/html")
def reset_page(call, token):
    return render_page("account_link.html", account_link_pages.show_reset(token, call.accept_language))


@endpoint(bp, "/reset-password/{token}", "POST", summary="The reset page's form", public=True,
          media_type="text/html", form=schemas.PASSWORD_FORM)
def reset_form(call, token):
    return render_page("account_link.html", account_link_pages.submit_reset(token, call.body, call.accept_language))


@endpoint(bp, "/confirm-email/{token}", "GET", summary="The page a confirm_email mail links to", public=True,
          media_type="text/html")
def confirm_page(call, token):
    return render_page("account_link.html", account_link_pages.show_confirm(token, call.accept_language))


@endpoint(bp, "/confirm-email/{token}", "POST", summary="The confirmation page's button", public=True,
          media_type="text/html", form=schemas.CONFIRM_FORM)
def confirm_form(call, token):
    return render_page("account_link.html", account_link_pages.submit_confirm(token, call.accept_language))
