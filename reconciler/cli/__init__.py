"""The `reconcile` command (`main`): parsing, one function per subcommand, exit codes."""
