"""What people and programs read: text and JSON (`render`), Markdown (`markdown`), the
progress bar (`progress`) and the logs (`logs`)."""
