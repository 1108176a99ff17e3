"""The device catalog: import, who sees which device, claims and release, batch references."""
