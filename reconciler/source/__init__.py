"""Where the desired files come from: a local path, or one commit of a Git repository."""
