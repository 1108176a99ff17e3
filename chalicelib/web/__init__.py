"""The HTML entrypoint beside chalicelib/api/: the pages e-mailed links open (routes and presenters), their one
form-page skeleton, the renderer and the words (gettext catalogs). It calls services, never models."""
