"""keyport: device onboarding and key custody."""

__version__ = "0.19.0"  # the one place the version is kept: `python -m chalicelib.cli --version` prints it
