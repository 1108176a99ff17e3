"""Tenants: the organization tree, partner links, sites, users and their administration, invitations, first operator."""
