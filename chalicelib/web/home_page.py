"""The console's start page: the areas the person's roles open and the organization acted for (an administrator
of a tree switches to one below its own)."""

from chalice import Response

from chalicelib.services.accounts import console_visits
from chalicelib.web.catalogs import N_, role_names
from chalicelib.web.console import HOME, Visit, page

NOTICES = {
    "org": N_("You now act for %(org)s."),
    "password": N_("Your password has been changed."),
}


@page(HOME, ("GET",))
def home_page(visit: Visit) -> Response:
    """Who is signed in, for which organization, and where they may go."""
    visitor = visit.visitor
    assert visitor is not None
    notice = NOTICES.get(visit.query.get("done", ""))
    return visit.show(
        "home.html",
        title=visit.gettext(N_("Welcome, %(name)s"), name=visitor.name),
        acting_line=visit.gettext(N_("You act for %(org)s."), org=visitor.acting_org_name),
        roles_line=visit.gettext(
            N_("Your roles: %(roles)s"), roles=role_names(sorted(visitor.principal.roles), visit.language)
        ),
        orgs=console_visits.orgs_to_act_for(visit.principal) if visitor.may_switch_org else [],
        notice=visit.gettext(notice, org=visitor.acting_org_name) if notice else "",
    )


@page("/console/org", ("POST",))
def switch_org_form(visit: Visit) -> Response:
    """Act for another organization of the administrator's tree (404 outside it)."""
    console_visits.act_for_org(visit.principal, visit.form.get("org_id", ""))
    return visit.redirect(HOME + "?done=org")
