"""E-mail templates: read-only system defaults, editable organization copies, their activation."""
