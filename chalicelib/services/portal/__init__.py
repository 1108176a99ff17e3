"""The customer portal: access codes at organization, site or installation level, and the read-only sessions they open."""
