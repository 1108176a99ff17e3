"""keyport's Chalice app: registers blueprints, middleware and scheduled functions. No logic."""
import logging

from chalice import Chalice, Rate

from chalicelib.api import (account, account_pages, audit, batches, devices, invitations, orgs, sites, system, templates,
                            users)
from chalicelib.api.edge import http_edge
from chalicelib.config import get_settings
from chalicelib.services import invitations as invitation_service

app = Chalice(app_name="keyport")
# With debug on, a 500 body is the traceback: only ever on a local run that asks for it.
app.debug = get_settings().debug
logging.getLogger("keyport").setLevel(logging.INFO)

app.register_middleware(http_edge, "http")
app.register_blueprint(system.bp)
app.register_blueprint(account.bp)
app.register_blueprint(account_pages.bp)
app.register_blueprint(templates.bp)
app.register_blueprint(orgs.bp)
app.register_blueprint(users.bp)
app.register_blueprint(sites.bp)
app.register_blueprint(invitations.bp)
app.register_blueprint(devices.bp)
app.register_blueprint(batches.bp)
app.register_blueprint(audit.bp)


@app.schedule(Rate(1, unit=Rate.HOURS), name="expire-invitations")
def expire_invitations(event):
    """Hourly: invitations past their expiry become EXPIRED."""
    return invitation_service.expire_invitations()
