"""One module per subcommand; each defines a click command named like the module."""
