"""Pure logic: schema, validation, events, image I/O. No Qt, no network."""
