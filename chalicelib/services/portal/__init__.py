"""The customer portal: access codes at organization, site or installation level, the read-only sessions they open."""
