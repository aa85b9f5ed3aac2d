"""Import jobs: one upload of a file, its column mapping, progress and rejected rows."""
