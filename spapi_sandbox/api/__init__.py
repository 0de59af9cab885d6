"""One module per SP-API area; importing this package registers every route."""
