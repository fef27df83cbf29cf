"""The terminal interface: typer commands that parse, call `api`, and render with rich."""
