"""keyport: device onboarding and key custody."""
