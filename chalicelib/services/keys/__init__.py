"""Key custody: downloads of one device's or many devices' keys, key files, export jobs and where their files live."""
