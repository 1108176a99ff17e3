"""keyport's Chalice app: registers blueprints, middleware and scheduled functions. No logic."""

import json

from chalice import Chalice, Rate

# isort: off
# Routes enter the OpenAPI document in import order: each area's HTML pages (chalicelib/web) follow its API routes,
# as they did when they lived in the api modules. Reordering these lines changes the document.
from chalicelib.api import account
from chalicelib.web import account_link_pages
from chalicelib.api import audit, batches, devices, exports, installations
from chalicelib.web import activation_page
from chalicelib.api import invitations
from chalicelib.web import invitation_page
from chalicelib.api import orgs, portal, registrations, sites, system, templates, users
from chalicelib.web import console, console_assets, home_page, sign_in_pages  # noqa: F401  (console pages)
from chalicelib.web import batch_pages, portal_pages  # noqa: F401  (console pages)
from chalicelib.web import account_pages, profile_pages  # noqa: F401  (console pages: own account)
from chalicelib.web import register_page  # noqa: F401  (console: installer self-registration)
from chalicelib.web import audit_page, registration_pages  # noqa: F401  (console: audit, operator review)

# isort: on
from chalicelib.api.edge import http_edge
from chalicelib.config import get_settings
from chalicelib.observability import observe_invocation, start_function
from chalicelib.services import queued_jobs
from chalicelib.services.installers import installations as installation_service
from chalicelib.services.keys import exports as export_service
from chalicelib.services.tenants import invitation_retention
from chalicelib.services.tenants import invitations as invitation_service

start_function()  # JSON logs; a Lambda cold start of a deployed stage without its settings ends here, in one line
# With debug on, an internal error answers with its traceback: only ever on a local run that asks for it.
# Chalice's logger is "keyport" too: start_function set it up (JSON, POWERTOOLS_LOG_LEVEL), so Chalice must not
# (plain text, ERROR).
app = Chalice(app_name="keyport", debug=get_settings().debug, configure_logs=False)

app.register_middleware(observe_invocation, "all")
app.register_middleware(http_edge, "http")
app.register_blueprint(system.bp)
app.register_blueprint(account.bp)
app.register_blueprint(account_link_pages.bp)
app.register_blueprint(templates.bp)
app.register_blueprint(orgs.bp)
app.register_blueprint(users.bp)
app.register_blueprint(sites.bp)
app.register_blueprint(invitations.bp)
app.register_blueprint(invitation_page.bp)
app.register_blueprint(devices.bp)
app.register_blueprint(batches.bp)
app.register_blueprint(audit.bp)
app.register_blueprint(exports.bp)
app.register_blueprint(registrations.bp)
app.register_blueprint(installations.bp)
app.register_blueprint(activation_page.bp)
app.register_blueprint(portal.bp)
app.register_blueprint(console.bp)
app.register_blueprint(console_assets.bp)


@app.schedule(Rate(1, unit=Rate.HOURS), name="expire-invitations")
def expire_invitations(event):
    """Hourly: closed invitations are deleted a day before their TTL; then those past their expiry become EXPIRED
    (deleted by a later run, once their own retention ends)."""
    purged = invitation_retention.purge_closed_invitations()
    return {**invitation_service.expire_invitations(), **purged}


@app.schedule(Rate(1, unit=Rate.HOURS), name="expire-exports")
def expire_exports(event):
    """Hourly: export files past their day are deleted, jobs past their deadline FAILED."""
    return export_service.expire_exports()


@app.schedule(Rate(1, unit=Rate.HOURS), name="expire-installations")
def expire_installations(event):
    """Hourly: pending installations whose activation link ran out become EXPIRED; their devices are free again."""
    return installation_service.expire_installations()


# The queue's name is fixed per stage (infra/resources.json declares it); one job per invocation.
@app.on_sqs_message(queue=f"keyport-{get_settings().stage}-exports", batch_size=1, name="export_worker")
def export_worker(event):
    """Runs queued key exports (SQS delivers at least once; a finished job is left as it is) and the mail jobs
    of public requests (password reset, registration), queued so that their answer time tells nothing."""
    for record in event:
        body = json.loads(record.body)
        if "export_id" in body:
            export_service.run_export(body["export_id"])
        else:
            queued_jobs.run_job(body)
