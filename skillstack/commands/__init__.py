"""The `skillstack` subcommands, grouped by what they do; `skillstack.cli` wires them to the parser."""


class UserError(Exception):
    """A problem the user can fix; printed as one line with what to run, exit code 2."""
